"""What recomputation costs in time: the forward FLOPs a step runs again, against one BP step's.

The planner trades memory for this: BPCKPT's plan and DFAMEM recompute forward passes, and the
fraction is the step time they add to BP's, where the matmuls and convolutions dominate
(elementwise ops count no FLOPs in the programs: they take microseconds to the matmuls'
milliseconds). Read from a program's ops (planning/algorithms.py names them by scope, as the
algorithms name their TensorFlow ops): an op is a recomputation when a `recompute` scope holds
its `forward` scope, e.g. recompute/segment_0/recompute/segment_1/forward/block_2/MatMul.
"""


def recomputed_forward_flops(ops):
    return sum(op.flops for op in ops if is_recomputed_forward(op.name))


def is_recomputed_forward(name):
    components = name.split("/")
    return "forward" in components and "recompute" in components[:components.index("forward")]


def recompute_fraction(ops, bp_ops):
    """Recomputed forward FLOPs of the step `ops` over all FLOPs of BP's step `bp_ops` (forward + backward)."""
    bp_flops = sum(op.flops for op in bp_ops)
    return recomputed_forward_flops(ops) / bp_flops if bp_flops else 0.0



def step_flops(ops, keep=()):
    """Every FLOP of the ops a step runs: multiply-adds (x2) of dense and conv layers, forward and
    backward, feedback products and pooling; elementwise ops count none. Only live ops count: an
    update (no outputs), an op whose output a live op reads, or one making a `keep` tensor (the
    fetched loss and logits). Grappler prunes the rest before the step runs, e.g. DFAMEM's
    recomputation of a linear last block, whose output only the update's wait reads."""
    needed, total = {tensor.name for tensor in keep}, 0
    for op in reversed(ops):
        if op.outputs and not any(tensor.name in needed for tensor in op.outputs):
            continue
        needed.update(tensor.name for tensor in op.inputs)
        total += op.flops
    return total
