"""A hand-built traced step of a 2-block MLP (batch 4, widths 8 and 3), no TensorFlow.

Times are microseconds after T0. Records are listed per node, frees on the node that
allocated the buffer, as TensorFlow's step stats list them (so not in time order). Relu,
the loss's backprop output, the loss gradient's mul and ReluGrad forward their input
buffer: same ptr, no allocation of their own.

Bytes in use after each record, in time order (worked out by hand):
  t=11 +128 block_1/MatMul   128      t=51 +96  dW2              276
  t=21 +48  block_2/MatMul   176      t=56 +128 dh               404  <- peak
  t=31 +16  xent scratch     192      t=60 -48  block_2/MatMul   356
  t=32 +16  xent loss vector 208      t=63 -96  dW2              260
  t=34 -16  xent scratch     192      t=66 -128 block_1/MatMul   132
  t=41 +4   loss/Mean        196      t=68 +192 dW1              324
  t=43 -16  xent loss vector 180      t=71 -128 dh               196
                                      t=74 -192 dW1                4  (the fetched loss)
"""
from tracing.records import AllocationRecord, NodeStat, OutputSlot

T0 = 1_000_000
CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
ALLOCATOR = "mklcpu"
PEAK_BYTES = 404
PEAK_TIME_US = 56
FINAL_BYTES = 4

B1 = "forward/block_1/MatMul"
RELU = "forward/block_1/Relu"
B2 = "forward/block_2/MatMul"
XENT = "loss/xent"
MEAN = "loss/Mean"
XENT_GRAD = "backward/gradients/loss/xent_grad/mul"
DW2 = "backward/gradients/forward/block_2/MatMul_grad/MatMul_1"
DH = "backward/gradients/forward/block_2/MatMul_grad/MatMul"
APPLY_W2 = "update/GradientDescent/update_model/w2/ResourceApplyGradientDescent"
RELU_GRAD = "backward/gradients/forward/block_1/Relu_grad/ReluGrad"
DW1 = "backward/gradients/forward/block_1/MatMul_grad/MatMul_1"
APPLY_W1 = "update/GradientDescent/update_model/w1/ResourceApplyGradientDescent"
INPUT = "input/IteratorGetNext"

# The executor thread of each node as step stats number them: the iterator runs on its own.
MAIN_THREAD, INPUT_THREAD = 1, 2

# (name, runtime op type, start, run time, outputs as (slot, bytes, ptr), records as (t, delta))
_NODES = [
    ("_SOURCE", "NoOp", 0, 1, [], []),
    (INPUT, "IteratorGetNext", 2, 3, [(0, 0, 0x10), (1, 0, 0x20)], []),
    (B1, "_MklMatMul", 10, 5, [(0, 128, 0xA0)], [(11, 128), (66, -128)]),
    (RELU, "Relu", 16, 2, [(0, 128, 0xA0)], []),
    (B2, "_MklMatMul", 20, 4, [(0, 48, 0xB0)], [(21, 48), (60, -48)]),
    (XENT, "SparseSoftmaxCrossEntropyWithLogits", 30, 5, [(0, 16, 0xC0), (1, 48, 0xB0)],
     [(31, 16), (32, 16), (34, -16), (43, -16)]),
    (MEAN, "Mean", 40, 2, [(0, 4, 0xD0)], [(41, 4)]),
    (XENT_GRAD, "Mul", 45, 2, [(0, 48, 0xB0)], []),
    (DW2, "_MklMatMul", 50, 4, [(0, 96, 0xE0)], [(51, 96), (63, -96)]),
    (DH, "_MklMatMul", 55, 4, [(0, 128, 0xF0)], [(56, 128), (71, -128)]),
    (APPLY_W2, "ResourceApplyGradientDescent", 61, 2, [], []),
    (RELU_GRAD, "ReluGrad", 64, 2, [(0, 128, 0xF0)], []),
    (DW1, "_MklMatMul", 67, 3, [(0, 192, 0x1A0)], [(68, 192), (74, -192)]),
    (APPLY_W1, "ResourceApplyGradientDescent", 72, 2, [], []),
]

# tensor -> nodes that read it, as the graph would say
CONSUMERS = {
    f"{INPUT}:0": (B1, DW1),
    f"{INPUT}:1": (XENT,),
    f"{B1}:0": (RELU,),
    f"{RELU}:0": (B2, DW2, RELU_GRAD),
    f"{B2}:0": (XENT,),
    f"{XENT}:0": (MEAN,),
    f"{XENT}:1": (XENT_GRAD,),
    f"{XENT_GRAD}:0": (DW2, DH),
    f"{DW2}:0": (APPLY_W2,),
    f"{DH}:0": (RELU_GRAD,),
    f"{RELU_GRAD}:0": (DW1,),
    f"{DW1}:0": (APPLY_W1,),
}


def node_stats(device=CPU):
    return [
        NodeStat(name, device, op_type, T0 + start, run,
                 tuple(OutputSlot(slot, size, size, ptr) for slot, size, ptr in outputs),
                 INPUT_THREAD if name == INPUT else MAIN_THREAD)
        for name, op_type, start, run, outputs, _ in _NODES
    ]


def records(device=CPU, allocator=ALLOCATOR):
    return [
        AllocationRecord(T0 + time, delta, name, device, allocator)
        for name, _, _, _, _, node_records in _NODES
        for time, delta in node_records
    ]
