"""The memory model under nested checkpoint plans: the traced peak, and the recomputation's FLOPs.

Dense networks, where the model is exact for BPCKPT (tests/planning/test_model.py): the peak
of each plan is checked against a trace of the real step, and recompute_fraction against
FLOPs counted from the plan's forward counts and the layers' sizes.
"""
import pytest
import tensorflow as tf

from definitions.config import validate
from layers import ConvolutionalLayer, FullyConnected, ReLu, Sigmoid, Tanh
from planning.checkpoint_plan import parse
from planning.model import MemoryModel
from tests.planning.test_model import BATCH, CLASSES, TOLERANCE, measured_peak, predicted
from training.blocks import forward_blocks, split_into_blocks

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

WIDTH, INPUT = 256, (16, 16, 1)


def deep_dense():
    """7 blocks: six hidden layers of 256 units, activations of every kind, the output layer."""
    layers = [FullyConnected(WIDTH, flatten=True), Tanh()]
    for activation in (Sigmoid, ReLu, Tanh, Sigmoid, ReLu):
        layers += [FullyConnected(WIDTH), activation()]
    return layers + [FullyConnected(CLASSES)]


def traced_and_predicted(plan):
    config = validate({"type": "BPCKPT", "checkpoint_plan": plan})
    peak, _ = measured_peak(deep_dense, INPUT, "BPCKPT", config=config)
    return peak, predicted(deep_dense, INPUT, "BPCKPT", checkpoint_plan=parse(plan, 7))


@pytest.mark.parametrize("plan", ["(2|2)|2|1", "(1|(1|1))|(2|1)|1", "((2|1)|2)|2", "(2|(1|2))|2", "((1|2)|(1|1))|2"])
def test_the_predicted_peak_of_a_plan_is_the_traced_one(plan):
    peak, prediction = traced_and_predicted(plan)
    # The tolerance (test_model's) is a third of one activation here: a wrong rule breaks it.
    assert prediction.peak_bytes == pytest.approx(peak, rel=TOLERANCE), (prediction.peak_op,
                                                                                 prediction.peak_bytes, peak)


@pytest.mark.parametrize("plan", ["1|1|1|1|1|1|1", "((1|1)|1)|(1|1)|2"])
def test_a_peak_on_a_leafs_first_block_is_at_most_one_activation_above_the_prediction(plan):
    """A known limit of the model, uniform plans included: the first block of a leaf reads a
    checkpoint that nothing reads after its weight gradient. The model runs that gradient
    before the input gradient and frees the checkpoint in between; TensorFlow's executor may
    run the two matmuls side by side (no order is imposed inside a block), and then both
    outputs and the checkpoint are alive at once. Where the peak falls there, the trace is one
    activation above the prediction."""
    peak, prediction = traced_and_predicted(plan)
    activation = BATCH * WIDTH * 4
    assert prediction.peak_bytes <= peak * (1 + TOLERANCE)
    assert peak <= (prediction.peak_bytes + activation) * (1 + TOLERANCE), (prediction.peak_op, peak)


def dense_model(widths, batch, plan):
    """A model of FullyConnected layers of `widths` (the last one the output) on inputs of widths[0]."""
    layers = [layer for width in widths[1:-1] for layer in (FullyConnected(width), Tanh())]
    blocks = split_into_blocks(layers + [FullyConnected(widths[-1])])
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, widths[0]]), training=False)
    return MemoryModel(blocks, (widths[0],), widths[-1], threads=2,
                       checkpoint_plan=parse(plan, len(blocks)) if plan else None).predict("BPCKPT", batch)


@pytest.mark.parametrize("plan", ["7", "1|1|1|1|1|1|1", "(2|2)|2|1", "((1|1)|1)|(1|1)|2", None])
def test_recompute_fraction_counts_the_forward_passes_run_again(plan):
    widths, batch = [12, 40, 24, 56, 8, 32, 16, 5], 9
    prediction = dense_model(widths, batch, plan)
    forward = [2 * batch * n_in * n_out for n_in, n_out in zip(widths, widths[1:])]
    # BP's step: every forward matmul, and two backward ones per block (dW and dx), but no dx into the input.
    bp = sum(forward) + 2 * sum(forward) - forward[0]
    counts = parse(plan, 7).forward_counts() if plan else [2] * 6 + [1]  # default: 3|3|1, round(sqrt(7)) blocks
    assert prediction.recompute_fraction == pytest.approx(sum((c - 1) * f for c, f in zip(counts, forward)) / bp)


@pytest.mark.parametrize("kind,recomputed", [("DFAMEM", [1, 1, 1]), ("BPCKPT", [1, 1, 0])])
def test_convolutions_count_both_gradients_though_they_run_side_by_side(kind, recomputed):
    """The program merges a convolution's two gradients into one op where they run together (its
    FLOPs are the time they take): the fraction counts them as two."""
    blocks = split_into_blocks([ConvolutionalLayer((3, 3), 8), ReLu(), ConvolutionalLayer((3, 3), 6), ReLu(),
                                FullyConnected(10, flatten=True)])
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, 8, 8, 3]), training=False)
    forward = [2 * 8 * 8 * 9 * 3 * 8, 2 * 8 * 8 * 9 * 8 * 6, 2 * 8 * 8 * 6 * 10]  # per example, SAME padding
    bp = 3 * sum(forward) - forward[0]
    fraction = MemoryModel(blocks, (8, 8, 3), 10, threads=2).predict(kind, 5).recompute_fraction
    assert fraction == pytest.approx(sum(r * f for r, f in zip(recomputed, forward)) / bp)  # BPCKPT: 2|1


def test_dfamem_recomputes_one_forward_pass_and_bp_none():
    widths = [12, 40, 24, 5]
    blocks = split_into_blocks([FullyConnected(40), Tanh(), FullyConnected(24), Tanh(), FullyConnected(5)])
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, 12]), training=False)
    model = MemoryModel(blocks, (12,), 5, threads=2)
    forward = [2 * 4 * n_in * n_out for n_in, n_out in zip(widths, widths[1:])]
    bp = 3 * sum(forward) - forward[0]
    assert model.predict("DFAMEM", 4).recompute_fraction == pytest.approx(sum(forward) / bp)
    for kind in ("BP", "FA", "DFA", "DRTP"):
        assert model.predict(kind, 4).recompute_fraction == 0
