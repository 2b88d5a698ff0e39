"""DFAMEM computes exactly DFA's updates; regenerated feedback equals stored feedback."""
import numpy as np
import pytest
import tensorflow as tf

from definitions.registry import get_sequence
from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu, ResidualLayer, Sigmoid
from training.algorithms import BP, DFA, DFAMEM, DRTP, FA
from training.feedback import Feedback
from tests.training.algorithms.harness import batch, run_steps

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

NETWORKS = {
    "sigmoid_mlp": (lambda: [FullyConnected(8), Sigmoid(), FullyConnected(8), Sigmoid(), FullyConnected(7),
                             Sigmoid(), FullyConnected(3)], (5,)),
    "conv_bn_residual": (lambda: [ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"), ReLu(),
                                  BatchNormalization(momentum=0.9), MaxPool([2, 2], [2, 2], "SAME"),
                                  ResidualLayer([ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"),
                                                 ReLu()]),
                                  FullyConnected(3, flatten=True)], (6, 6, 2)),
}


def momentum():
    return tf.compat.v1.train.MomentumOptimizer(0.05, momentum=0.9)


def adam():
    return tf.compat.v1.train.AdamOptimizer(0.01)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_one_step_equals_dfa(name):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    dfa = run_steps(DFA, make_layers, x, y, state_variables=True)
    mem = run_steps(DFAMEM, make_layers, x, y, initial=dfa.before, state_variables=True)
    for got, want, old in zip(mem.after, dfa.after, dfa.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert not np.allclose(got, old)  # weights and batch-norm averages all moved, once


@pytest.mark.parametrize("optimizer", [momentum, adam], ids=["momentum", "adam"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_several_steps_stay_close_to_dfa(name, optimizer):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    dfa = run_steps(DFA, make_layers, x, y, steps=5, optimizer=optimizer)
    mem = run_steps(DFAMEM, make_layers, x, y, steps=5, optimizer=optimizer, initial=dfa.before)
    np.testing.assert_allclose(mem.losses, dfa.losses, rtol=1e-4)
    for got, want in zip(mem.after, dfa.after):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("algorithm", [FA, DFA, DFAMEM, DRTP])
def test_regenerated_feedback_equals_stored(algorithm):
    make_layers, shape = NETWORKS["sigmoid_mlp"]
    x, y = batch(shape, size=8)
    stored = run_steps(algorithm, make_layers, x, y, steps=3, feedback=Feedback(seed=11))
    regenerated = run_steps(algorithm, make_layers, x, y, steps=3, initial=stored.before,
                            feedback=Feedback(seed=11, regenerate=True))
    assert stored.feedback and not regenerated.feedback  # no matrix kept between steps
    for got, want in zip(regenerated.after, stored.after):
        np.testing.assert_array_equal(got, want)


def test_alignment_angles_are_logged_and_bp_is_aligned_with_itself():
    make_layers, shape = NETWORKS["sigmoid_mlp"]
    x, y = batch(shape, size=8)
    dfa = run_steps(DFA, make_layers, x, y, gather_stats=True)
    angles = dfa.stats[0]
    assert sorted(angles) == [f"alignment/block_{i}" for i in range(4)]
    assert angles["alignment/block_3"] == pytest.approx(0, abs=0.1)  # the last block gets the true error
    assert all(0 <= angle <= 180 for angle in angles.values())
    fa = run_steps(FA, make_layers, x, y, gather_stats=True)
    # FA's true gradient comes from a second forward pass that oneDNN may fuse differently;
    # acos near 1 turns that float32 noise (~1e-6 relative) into tenths of a degree.
    assert fa.stats[0]["alignment/block_3"] == pytest.approx(0, abs=0.5)
    assert 0 < fa.stats[0]["alignment/block_0"] < 180
    assert run_steps(BP, make_layers, x, y, gather_stats=True).stats == [{}]


ARCHITECTURES = {"liao_mnist": (28, 28, 1), "liao_cifar_bn": (32, 32, 3), "vgg_16": (32, 32, 3),
                 "resnet_18": (32, 32, 3)}


@pytest.mark.parametrize("sequence", sorted(ARCHITECTURES))
def test_big_architectures_train_under_every_type(sequence):
    x, y = batch(ARCHITECTURES[sequence], classes=10, size=2)
    for algorithm in (BP, FA, DFA, DFAMEM, DRTP):
        run = run_steps(algorithm, lambda: get_sequence(sequence)(10), x, y, learning_rate=0.01)
        assert np.isfinite(run.losses[0])
        assert sum(not np.array_equal(a, b) for a, b in zip(run.after, run.before)) == len(run.before)


def test_no_two_filter_gradients_can_run_at_once():
    """DFAMEM gates its gradients as BPCKPT does: within a block, every pair of convolution filter
    gradients is ordered (and blocks follow each other), so the traced peak does not depend on
    whether the executor ran two filter gradients, each with its workspace, side by side."""
    import itertools

    from tests.training.algorithms.test_bpckpt_plans import basic_residual_blocks, depends_on
    from training.blocks import split_into_blocks
    from training.losses import softmax_cross_entropy
    graph = tf.Graph()
    with graph.as_default():
        x, y = batch((6, 6, 2), size=4)
        DFAMEM(None, Feedback(0)).build(split_into_blocks(basic_residual_blocks()), tf.constant(x), tf.constant(y),
                                        softmax_cross_entropy, lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1))
    filters = [op for op in graph.get_operations() if op.type == "Conv2DBackpropFilter"]
    assert len(filters) >= 6
    for first, second in itertools.combinations(filters, 2):
        assert depends_on(first, second) or depends_on(second, first), (first.name, second.name)
