"""Measure one block's kernels: its forward and backward traced alone, turned into planning's ops.

The block is rebuilt from its layers' configs in a graph of its own, on a fed batch of its
input and a fed gradient at its output, each copied into a buffer of its own inside the step (as
the previous block's output and the next block's input gradient are in a real one). One session
runs three steps: the forward pass and the gradients to the weights; the forward pass and the
gradients to the weights and the input (the roles the algorithms give a block: DFA's blocks and
the first block need no input gradient); the forward pass alone (a pass no gradient reads,
MEZO's). After warm-up, each is traced several times and the run
with the median peak is kept, with the partition graph Grappler and the kernel library produced:
every executed node, what it read, the bytes of its outputs, whether an output took over an
input's buffer, its scratch bytes (its allocator peak beyond its new outputs) and its run time.

Measuring is beside the model: planning/ replays the ops (planning/measured.py), and nothing of
a run waits for these graphs but `experiment plan` and the memory budget's plan.
"""
import numpy as np
import tensorflow as tf

from layers.base import layer_to_config
from layers.registry import layer_from_config
from planning.builder import ProgramBuilder
from planning.measured import BLOCK_INPUT, OUTPUT_GRADIENT, Backward, BlockKernels, MeasuredOp, replay
from planning.program import simulate
from training.algorithms.base import Algorithm
from training.blocks import Block
from training.gradients import ordered_gradients
from tracing.session_config import session_config

WARMUP, TRACES = 2, 3
FRESH_INPUT, FRESH_GRADIENT, OUTPUT_SUM = "probe/x", "probe/dy", "probe/output_sum"
# Ops whose output is a view of their input (no buffer of its own, whoever else reads the input).
VIEW_OPS = frozenset({"Reshape", "Identity", "IdentityN", "Snapshot", "Squeeze", "ExpandDims", "StopGradient",
                      "ReadVariableOp", "_MklReshape", "_MklIdentity", "PreventGradient", "EnsureShape",
                      # An AddN of large gradients runs as a temporary variable that these ops
                      # initialise, add into and hand on: one buffer (resnet_50, batch 32: counted
                      # as four, the model was a third of an activation per block too high).
                      "Assign", "AssignAdd", "AssignSub", "DestroyTemporaryVariable"})
# Ops that read only their input's shape. A gradient's Shape of a forward tensor (an Add's, a
# Mean's) is ready as soon as that tensor exists, and the executor runs it then, in the forward
# pass: it holds nothing until the backward pass, whatever its name says (a transformer's
# residual adds and layer norms: +0.8 MiB per block in the model when it did).
SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank"})
NOT_KERNELS = frozenset({"_Retval", "_Arg", "NoOp", "_SOURCE", "_SINK", "VarHandleOp", "Const", "HostConst"})


def layer_configs(block):
    """The configs that rebuild a built block's layers (names dropped: they do not change kernels)."""
    return [_without_names(layer_to_config(layer)) for layer in block.layers]


def measure_block(configs, input_shape, batch_size, threads=None, device="CPU", static_batch=False):
    """BlockKernels of the block made of `configs` on a batch of `input_shape` examples.

    static_batch: the graph knows the batch size (a tf.data batch with drop_remainder, as the
    benchmarks' graphs have); a run's graph does not, and then Grappler leaves shape arithmetic
    and broadcasts to run time, where they allocate."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(f"/{device}:0"):
        tf.compat.v1.set_random_seed(0)
        block = Block(0, [layer_from_config(config) for config in configs])
        one = tf.compat.v1.get_variable("probe/one", initializer=1.0, use_resource=True)
        # The batch fed to a placeholder whose batch size is as known as the run's: unknown, Grappler
        # keeps the shape arithmetic a run computes (a convolution gradient's ShapeN). Times a
        # variable (which Grappler cannot fold), the input and the output gradient are buffers of
        # their own made in the step, as a real step's are: a kernel that can write into its
        # input's buffer (ReluGrad into the gradient) is then seen doing it.
        batch = batch_size if static_batch else None
        fed_x = tf.compat.v1.placeholder(tf.float32, [batch, *input_shape], name="probe/fed_x")
        x = tf.multiply(fed_x, one.read_value(), name=FRESH_INPUT)
        with tf.name_scope("forward"), tf.name_scope(block.name):
            y = block.forward(x, training=True)
        block.pop_updates()  # the moving averages: a run applies them after the step, beside it
        fed_dy = tf.compat.v1.placeholder(tf.float32, [batch, *y.shape.as_list()[1:]], name="probe/fed_dy")
        dy = tf.multiply(fed_dy, one.read_value(), name=FRESH_GRADIENT)
        variables = block.variables
        with tf.name_scope("backward"):
            to_weights = ordered_gradients(y, variables, grad_ys=dy, gate_gradients=Algorithm.gate_gradients)
        with tf.name_scope("backward/"):
            # Token ids (an Embedding first) have no gradient: zeros stand in, as no algorithm asks
            # for the input gradient of the first block.
            to_input = ordered_gradients(y, [x] + variables, grad_ys=dy, gate_gradients=Algorithm.gate_gradients,
                                    unconnected_gradients="zero")
        init = tf.compat.v1.global_variables_initializer()
    names = {FRESH_INPUT: BLOCK_INPUT, FRESH_GRADIENT: OUTPUT_GRADIENT}
    with tf.compat.v1.Session(graph=graph, config=session_config(threads)) as session:
        session.run(init)
        rng = np.random.default_rng(0)
        feeds = {fed_x: _example_input(block, rng, (batch_size, *input_shape)),
                 fed_dy: rng.standard_normal((batch_size, *y.shape.as_list()[1:]), dtype=np.float32)}
        # The output itself is not fetched (a fetched tensor stays with the session, and no kernel
        # could write into its buffer, as SigmoidGrad does in a real step): its sum is (a shape would
        # be folded into a constant where the batch is static), and the sum's input names the
        # output as Grappler left it.
        output_sum = tf.reduce_sum(y, name=OUTPUT_SUM)
        weights_run = _traced(session, [output_sum] + to_weights, feeds, names, device)
        input_run = _traced(session, [output_sum] + to_input, feeds, names, device)
        inference_run = _traced(session, [output_sum], feeds, names, device)
    forward, output, _ = _split(*input_run)
    _, _, weights_ops = _split(*weights_run)
    _, _, input_ops = _split(*input_run)
    inference, inference_output, _ = _split(*inference_run)
    return BlockKernels(forward, output, Backward(weights_ops, weights_run[1][1:]),
                        Backward(input_ops, input_run[1][2:], input_run[1][1]), inference, inference_output)


def _example_input(block, rng, shape):
    """A batch for the block: token ids in range before an Embedding (a gather refuses others),
    else normal values (the sizes the kernels allocate do not depend on them)."""
    vocabulary = getattr(block.layers[0], "vocab_size", None)
    if vocabulary:
        return rng.integers(0, vocabulary, shape).astype(np.float32)
    return rng.standard_normal(shape, dtype=np.float32)


def _traced(session, fetches, feeds, names, device):
    """(ops, ids of the fetches) of the traced run with the median peak."""
    for _ in range(WARMUP):
        session.run(fetches, feeds)
    runs = []
    for _ in range(TRACES):
        options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE,
                                          output_partition_graphs=True)
        metadata = tf.compat.v1.RunMetadata()
        session.run(fetches, feeds, options=options, run_metadata=metadata)
        runs.append(_program(metadata, names, device, fetches))
    peaks = [simulate(list(_as_ops(ops))).peak_bytes for ops, _ in runs]
    return runs[peaks.index(sorted(peaks)[len(peaks) // 2])]


def _as_ops(ops):
    b = ProgramBuilder(1)
    replay(b, ops, {}, "other")
    return b.ops


def _program(metadata, names, device, fetches):
    """(MeasuredOps in start order, ids of the fetched tensors by fetch index) of one traced run."""
    nodes = {node.name: node for graph in metadata.partition_graphs for node in graph.node}
    stats = [stat for dev in metadata.step_stats.dev_stats if _on(dev.device, device) for stat in dev.node_stats]
    stats.sort(key=lambda stat: stat.all_start_micros)
    first = stats[0].all_start_micros if stats else 0
    ids, pointers, ops = {}, {}, []
    for stat in stats:
        if stat.node_name in names:  # the block's input and output gradient: given to the block
            ids[(stat.node_name, 0)] = names[stat.node_name]
            pointers[(stat.node_name, 0)] = stat.output[0].tensor_description.allocation_description.ptr
            continue
        node = nodes.get(stat.node_name)
        if node is None or node.op in NOT_KERNELS or node.op == "ReadVariableOp":
            continue  # a weight's read is a view of a variable: it exists before the step
        inputs = [_source(text) for text in node.input if not text.startswith("^")]
        read = [ids[source] for source in inputs if source in ids] if node.op not in SHAPE_OPS else []
        pointer_of_input = {pointers[source]: ids[source] for source in inputs if source in pointers and source in ids}
        outputs, shares, fresh = [], [], 0
        for output in stat.output:
            allocation = output.tensor_description.allocation_description
            key, size = (stat.node_name, output.slot), int(allocation.allocated_bytes)
            shared = pointer_of_input.get(allocation.ptr) if allocation.ptr else None
            if shared is not None and node.op in VIEW_OPS:
                ids[key], pointers[key] = shared, allocation.ptr
                continue
            ids[key] = f"{stat.node_name}:{output.slot}"
            pointers[key] = allocation.ptr
            outputs.append((ids[key], size))
            if shared is not None:
                shares.append((ids[key], shared))
            else:
                fresh += size
        peak = sum(memory.peak_bytes for memory in stat.memory)
        if not outputs and not peak and len(read) < 2:
            continue  # a view's readers read its input; one that adds into it (AssignAdd) reads the addend
        ops.append(MeasuredOp(stat.node_name, tuple(read), tuple(outputs), tuple(shares), max(0, peak - fresh),
                              float(stat.all_start_micros - first), float(stat.all_end_rel_micros)))
    return tuple(ops), tuple(_fetched_id(nodes, ids, tensor) for tensor in fetches)


def _fetched_id(nodes, ids, tensor):
    """The id of a fetched tensor: the session names the node that returns it
    _retval_<op>_<slot>_<index>, and its input is the tensor as Grappler left it (maybe fused).
    For the output's sum, the id of the output it reads."""
    if tensor.op.name == OUTPUT_SUM:
        return ids.get(_source(nodes[OUTPUT_SUM].input[0]))
    prefix = f"_retval_{tensor.op.name}_{tensor.value_index}_"
    for name, node in nodes.items():
        if node.op == "_Retval" and name.startswith(prefix) and name[len(prefix):].isdigit():
            return ids.get(_source(node.input[0]))
    raise RuntimeError(f"the traced run returned no {tensor.name}")


def _split(ops, fetched):
    """(forward ops, the output's id, backward ops): the forward is what ran under forward/."""
    forward = tuple(op for op in ops if op.name.startswith("forward/"))
    backward = tuple(op for op in ops if "backward/" in op.name)  # its constant folds too
    return forward, fetched[0], backward


def _source(text):
    name, _, slot = text.partition(":")
    return name, int(slot) if slot else 0


def _on(device_name, device):
    return f"/device:{device.upper()}:0" in device_name and "stream" not in device_name and "memcpy" not in device_name


def _without_names(config):
    settings = {key: value for key, value in config["config"].items() if key != "name"}
    if "sequence" in settings:
        settings["sequence"] = [_without_names(layer) for layer in settings["sequence"]]
    return {"class_name": config["class_name"], "config": settings}

