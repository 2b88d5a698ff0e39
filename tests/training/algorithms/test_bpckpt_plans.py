"""BPCKPT under any checkpoint plan, nested ones too, computes BP's updates, and recomputes what the plan says.

The reference is BP (tests/training/algorithms/test_bpckpt.py's harness): the gradients each
block hands to its optimizer, and the weights after steps of SGD, momentum and Adam (one Adam
per block for BPCKPT against BP's one: each advances its bias correction once per step, so
the updates are BP's). The forward passes are recounted in the built graph.
"""
import functools
import itertools
import re

import numpy as np
import pytest
import tensorflow as tf

from planning.checkpoint_plan import parse
from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu, ResidualLayer
from training.algorithms import BP, BPCKPT
from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy
from tests.training.algorithms.harness import batch, run_steps
from tests.training.algorithms.test_bpckpt import (assert_same_gradients, conv_bn_residual, gradients, sigmoid_mlp,
                                                   traced_peak)

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

BLOCKS = 5
NETWORKS = {"sigmoid_mlp": (sigmoid_mlp(BLOCKS), (5,)), "conv_bn_residual": (conv_bn_residual, (6, 6, 2))}
PLANS = ["1|1|1|1|1", "(1|1)|3", "((1|1)|1)|2", "(2|(1|1))|1", "(((1|1)|1)|1)|1", "(1|(1|1))|(1|1)", "(1|1|1)|2",
         "5"]
OPTIMIZERS = {
    "sgd": lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.compat.v1.train.MomentumOptimizer(0.05, momentum=0.9),
    "adam": lambda: tf.compat.v1.train.AdamOptimizer(0.01),
}
STEPS = 3


class Config:
    """The config keys BPCKPT reads."""
    gather_stats = False
    feedback = "stored"
    segment_size = None

    def __init__(self, checkpoint_plan):
        self.checkpoint_plan = checkpoint_plan


def bpckpt(plan):
    return lambda config=None, feedback=None: BPCKPT(Config(plan), feedback=feedback)


def test_the_networks_have_the_plans_blocks():
    for make_layers, _ in NETWORKS.values():
        assert len(split_into_blocks(make_layers())) == BLOCKS
    assert max(parse(plan, BLOCKS).levels() for plan in PLANS) == 4


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradients_equal_bp(name, plan):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    want, initial = gradients(BP, make_layers, x, y)
    got, _ = gradients(bpckpt(plan), make_layers, x, y, initial)
    assert_same_gradients(got, want, initial)


@functools.lru_cache(maxsize=None)
def bp_steps(name, optimizer):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    return run_steps(BP, make_layers, x, y, steps=STEPS, optimizer=OPTIMIZERS[optimizer], state_variables=True)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_new_weights_equal_bp(name, plan, optimizer):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    bp = bp_steps(name, optimizer)
    ckpt = run_steps(bpckpt(plan), make_layers, x, y, steps=STEPS, optimizer=OPTIMIZERS[optimizer],
                     initial=bp.before, state_variables=True)
    np.testing.assert_allclose(ckpt.losses, bp.losses, rtol=1e-5)
    for got, want, old in zip(ckpt.after, bp.after, bp.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)  # weights and batch-norm averages all moved


def built_graph(plan, make_layers=sigmoid_mlp(BLOCKS), shape=(5,)):
    graph = tf.Graph()
    with graph.as_default():
        blocks = split_into_blocks(make_layers())
        x, y = batch(shape, size=4)
        BPCKPT(Config(plan), Feedback(0)).build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
                                                lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1))
    return graph


@pytest.mark.parametrize("plan", PLANS)
def test_each_blocks_forward_runs_as_often_as_the_plan_says(plan):
    """One MatMul per block and forward pass: those of the first pass (forward/block_i/) and of
    every recomputation (.../forward/block_i/), the shape check's probe left out."""
    names = [op.name for op in built_graph(plan).get_operations() if op.type == "MatMul"]
    counts = [sum(1 for name in names if re.search(rf"(^|/)forward/block_{block}/", name)
                  and "gradients" not in name) for block in range(BLOCKS)]
    assert counts == parse(plan, BLOCKS).forward_counts()


def test_nested_recomputations_have_their_own_scopes_under_recompute():
    # (2|1|1)|1: segment 0 (blocks 0-3) is recomputed, storing the inputs of blocks 2 and 3;
    # block 3 is differentiated on that pass, blocks 2 and then 0-1 are recomputed again.
    names = {op.name for op in built_graph("(2|(1|1))|1").get_operations()}
    forward = {re.sub(r"/block_\d+/.*", "", name) for name in names if re.search(r"forward/block_\d+/MatMul$", name)}
    assert forward == {"forward", "recompute/segment_0/forward", "recompute/segment_0/recompute/segment_1/forward",
                       "recompute/segment_0/recompute/segment_0/forward"}
    assert "recompute/segment_0/recompute/segment_0/segment_input" in names
    assert any(n.startswith("recompute/segment_0/recompute/segment_0/backward/block_1/") for n in names)
    assert any(n.startswith("recompute/segment_0/backward/block_3/") for n in names)
    assert not any(n.startswith("recompute/segment_0/recompute/segment_2/") for n in names)  # the last child


def test_a_recomputation_waits_for_the_later_segments_last_update():
    graph = built_graph("(2|(1|1))|1")
    identity = graph.get_operation_by_name("recompute/segment_0/recompute/segment_0/segment_input")
    assert identity.inputs[0].op.name == "recompute/segment_0/segment_input"  # the recomputed checkpoint
    [waits_for] = identity.control_inputs  # the optimizer's group of block 2's updates, block 2 being last done
    assert waits_for.name.startswith("recompute/segment_0/recompute/segment_1/update/")
    applied = {op.inputs[0].op.name for op in waits_for.control_inputs if op.type.startswith("ResourceApply")}
    assert applied == {"model/block_2/0_FullyConnected/kernel", "model/block_2/0_FullyConnected/bias"}


def test_nesting_lowers_the_traced_peak_where_it_should():
    """16 blocks of width 64, batch 256: activations dominate. The uniform plan holds 3 checkpoints
    and a segment of 4 blocks at once; the nested one at most 4 checkpoints (over its levels) and one
    block (traced: 7.25 and 5.25 activations). If Grappler merged a nested recomputation with the
    pass it repeats, that pass's activations would stay alive and the advantage would go."""
    activation = 256 * 64 * 4
    uniform = traced_peak(BPCKPT(Config("4|4|4|4"), Feedback(0)))
    nested = traced_peak(BPCKPT(Config("((2|2)|2|2)|(2|2)|2|2"), Feedback(0)))
    assert uniform - nested >= 1.5 * activation, (uniform, nested)


def basic_residual_blocks():
    """ResNet's basic block twice (two convolutions each) after a stem: five blocks."""
    def residual():
        return ResidualLayer([ConvolutionalLayer((3, 3), 4, padding="SAME"), BatchNormalization(), ReLu(),
                              ConvolutionalLayer((3, 3), 4, padding="SAME"), BatchNormalization()])
    return [ConvolutionalLayer((3, 3), 4, padding="SAME"), ReLu(), residual(), ReLu(), residual(), ReLu(),
            ConvolutionalLayer((3, 3), 4, padding="SAME"), ReLu(), FullyConnected(3, flatten=True)]


def depends_on(op, other):
    """Whether `op` runs only after `other`: `other` is among its data or control ancestors."""
    seen, stack = set(), [op]
    while stack:
        current = stack.pop()
        for parent in [tensor.op for tensor in current.inputs] + list(current.control_inputs):
            if parent is other:
                return True
            if parent.name not in seen:
                seen.add(parent.name)
                stack.append(parent)
    return False


@pytest.mark.parametrize("plan", ["(1|1)|3", "5"])
def test_no_two_filter_gradients_can_run_at_once(plan):
    """A convolution's filter gradient allocates a workspace of several activations (Eigen's
    patches) and runs long: left to the executor, the next convolution's filter gradient starts
    while it still runs (resnet_18: +14% over the prediction, and a budget missed). BPCKPT gates
    each op's gradients, so the gradient moves on only once the filter gradient exists: every
    pair of filter gradients is ordered, as the memory model assumes."""
    graph = built_graph(plan, basic_residual_blocks, (6, 6, 2))
    filters = [op for op in graph.get_operations() if op.type == "Conv2DBackpropFilter"]
    assert len(filters) >= 6
    for first, second in itertools.combinations(filters, 2):
        assert depends_on(first, second) or depends_on(second, first), (first.name, second.name)
