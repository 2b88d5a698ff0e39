"""tf.gradients with one order for the ops that differentiate the same forward op.

A convolution's input and filter gradients (a matmul's two products) read the same incoming
gradient and become ready together; the executor then runs them in the order of the optimized
graph, which Grappler's topological sort leaves to a hash of the nodes' names. So the order
changed with the names: a step ran the input gradient first and the kernel probe, measuring the
same block under other names, the filter gradient first. On Eigen, where the filter gradient
holds a large im2col buffer and the input gradient a small one, the model then missed the input
gradient's output beside that buffer (long_conv on 32x32, batch 32: 4 MiB under every budgeted
plan). A control edge from each such op to the next, in the order tf.gradients made them, gives
the step and the probe one order.
"""
import tensorflow as tf

# Ops that read only shapes run as soon as their input exists (in the forward pass): not siblings.
_SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank", "Const"})


def ordered_gradients(ys, xs, **kwargs):
    """tf.gradients(ys, xs, **kwargs), the sibling gradient ops ordered as they were made."""
    graph = tf.compat.v1.get_default_graph()
    before = len(graph.get_operations())
    result = tf.gradients(ys, xs, **kwargs)
    order_siblings(graph.get_operations()[before:])
    return result


def order_siblings(ops):
    """Chain, in creation order, the ops of one `<forward op>_grad` scope that read a common tensor."""
    by_scope = {}
    for op in ops:
        scope = op.name.rpartition("/")[0]
        if scope.endswith("_grad") and op.type not in _SHAPE_OPS:
            by_scope.setdefault(scope, []).append(op)
    for siblings in by_scope.values():
        for earlier, later in zip(siblings, siblings[1:]):
            if {t.name for t in earlier.inputs} & {t.name for t in later.inputs} and earlier not in later.control_inputs:
                later._add_control_input(earlier)
