"""Checkpointed BP computes BP's updates, and really frees the activations it recomputes."""
import numpy as np
import pytest
import tensorflow as tf

import tracing
from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu, ResidualLayer, Sigmoid
from training.algorithms import BP, BPCKPT
from planning.segments import default_segment_size, segment_bounds
from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy
from tracing.timeline import busiest_device, peak_bytes, split_by_device, timeline_points
from tests.training.algorithms.harness import batch, run_steps

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`


def sigmoid_mlp(blocks=7, width=8):
    def make_layers():
        layers = [FullyConnected(width), Sigmoid()]
        for _ in range(blocks - 2):
            layers += [FullyConnected(width), Sigmoid()]
        return layers + [FullyConnected(3)]
    return make_layers


def conv_bn_residual():
    return [ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"), ReLu(),
            BatchNormalization(momentum=0.9), MaxPool([2, 2], [2, 2], "SAME"),
            ResidualLayer([ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"), BatchNormalization(),
                           ReLu()]),
            ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"), BatchNormalization(momentum=0.8), ReLu(),
            ResidualLayer([ConvolutionalLayer((3, 3), 4, strides=[1, 1], padding="SAME"), ReLu()]),
            FullyConnected(3, flatten=True)]


NETWORKS = {"sigmoid_mlp": (sigmoid_mlp(), (5,)), "conv_bn_residual": (conv_bn_residual, (6, 6, 2))}


class Config:
    """The one config key BPCKPT reads."""
    gather_stats = False
    feedback = "stored"

    def __init__(self, segment_size):
        self.segment_size = segment_size


def bpckpt(segment_size):
    return lambda config=None, feedback=None: BPCKPT(Config(segment_size), feedback=feedback)


def test_segments_cover_the_blocks_in_order():
    assert default_segment_size(30) == 5 and default_segment_size(20) == 4 and default_segment_size(1) == 1
    assert segment_bounds(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert segment_bounds(4, 4) == [(0, 4)]
    assert segment_bounds(3, 1) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("segment_size", [None, 1, 2, 100])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_one_step_equals_bp(name, segment_size):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    bp = run_steps(BP, make_layers, x, y, state_variables=True)
    ckpt = run_steps(bpckpt(segment_size), make_layers, x, y, initial=bp.before, state_variables=True)
    np.testing.assert_allclose(ckpt.losses, bp.losses, rtol=1e-6)
    for got, want, old in zip(ckpt.after, bp.after, bp.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert not np.allclose(got, old)  # weights and batch-norm averages all moved, once


def gradients(algorithm, make_layers, x, y, initial=None):
    """{variable name: d loss / d variable} as the algorithm hands them to its optimizer(s)."""
    captured = []

    class Capture(tf.compat.v1.train.GradientDescentOptimizer):
        def apply_gradients(self, grads_and_vars, *args, **kwargs):
            grads_and_vars = list(grads_and_vars)
            captured.extend(grads_and_vars)
            return super().apply_gradients(grads_and_vars, *args, **kwargs)

    graph = tf.Graph()
    with graph.as_default():
        blocks = split_into_blocks(make_layers())
        step = algorithm(config=None, feedback=Feedback(0)).build(
            blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy, lambda: Capture(0.1))
        variables = [v for block in blocks for v in block.variables]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for variable, value in zip(variables, initial or []):
                variable.load(value, session)
            before = session.run(variables)
            values, _ = session.run([[g for g, _ in captured], step.train_op])
    return {v.name: value for (_, v), value in zip(captured, values)}, before


@pytest.mark.parametrize("segment_size", [None, 1, 2])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_gradients_equal_bp(name, segment_size):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=8)
    want, initial = gradients(BP, make_layers, x, y)
    got, _ = gradients(bpckpt(segment_size), make_layers, x, y, initial)
    assert_same_gradients(got, want, initial)


def assert_same_gradients(got, want, initial):
    """Every variable's gradient, to 1e-5 of BP's (relative to its largest entry near zero)."""
    assert sorted(got) == sorted(want) and len(got) == len(initial)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-7 * np.abs(want[key]).max(), err_msg=key)


def test_several_momentum_steps_stay_equal_to_bp():
    make_layers, shape = NETWORKS["conv_bn_residual"]
    x, y = batch(shape, size=8)
    momentum = lambda: tf.compat.v1.train.MomentumOptimizer(0.05, momentum=0.9)  # noqa: E731
    bp = run_steps(BP, make_layers, x, y, steps=4, optimizer=momentum, state_variables=True)
    ckpt = run_steps(bpckpt(2), make_layers, x, y, steps=4, optimizer=momentum, initial=bp.before,
                     state_variables=True)
    np.testing.assert_allclose(ckpt.losses, bp.losses, rtol=1e-5)
    for got, want in zip(ckpt.after, bp.after):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def build_step(algorithm, blocks_count, width, batch_size):
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        blocks = split_into_blocks(sigmoid_mlp(blocks_count, width)())
        x, y = batch((width,), size=batch_size)
        features = tf.compat.v1.placeholder(tf.float32, x.shape)
        labels = tf.compat.v1.placeholder(tf.float32, y.shape)
        step = algorithm.build(blocks, features, labels, softmax_cross_entropy,
                               lambda: tf.compat.v1.train.GradientDescentOptimizer(0.01))
        init = tf.compat.v1.global_variables_initializer()
    return graph, step, init, {features: x, labels: y}


def traced_records(algorithm, blocks_count=16, width=64, batch_size=256):
    graph, step, init, feed = build_step(algorithm, blocks_count, width, batch_size)
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(init)
        for _ in range(2):
            session.run(step.train_op, feed)
        return tracing.trace(session, step.train_op, feed).records


def traced_peak(algorithm, blocks_count=16, width=64, batch_size=256):
    points = {device: timeline_points(recs, 0)
              for device, recs in split_by_device(traced_records(algorithm, blocks_count, width, batch_size)).items()}
    return peak_bytes(points[busiest_device(points)])


def test_recomputation_survives_grappler_and_lowers_the_traced_peak():
    """Activations dominate this MLP (batch 256, width 64): if Grappler merged the recomputation
    with the first pass, every activation would stay alive and the peak would be BP's."""
    activation = 256 * 64 * 4
    bp = traced_peak(BP(None, Feedback(0)))
    ckpt = traced_peak(BPCKPT(Config(4), Feedback(0)))
    assert bp > 16 * activation  # BP keeps (at least) one activation per block
    assert ckpt < 0.6 * bp, (ckpt, bp)


def test_recomputed_ops_are_in_the_recompute_scopes():
    graph, step, _, _ = build_step(BPCKPT(Config(3), Feedback(0)), blocks_count=7, width=4, batch_size=2)
    names = [op.name for op in graph.get_operations()]
    for index in (0, 1):
        assert any(n.startswith(f"recompute/segment_{index}/forward/") and n.endswith("MatMul") for n in names)
        assert any(n.startswith(f"recompute/segment_{index}/backward/") for n in names)
    assert not any(n.startswith("recompute/segment_2/") for n in names)  # the last segment is not recomputed
    assert any(n.startswith("update/") for n in names) and any(n.startswith("loss/") for n in names)
