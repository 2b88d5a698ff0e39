"""MEZO against numpy (Malladi et al. 2023, SPSA in place): the projected gradient is the finite
difference (L(theta + eps z) - L(theta - eps z)) / (2 eps), the update theta - lr g z, the weights
restored between, and no backward op in the step."""
import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu
from tracing.categories import phase_of
from training import draws
from training.algorithms import MEZO
from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy
from tests.training.algorithms import numpy_mlp
from tests.training.algorithms.harness import batch

SEED = 3
LR = 0.1


def run_mezo(make_layers, x, y, epsilon, steps=1, learning_rate=LR, samples=1):
    """(weights before, after, [projected gradient of each step], graph) of MEZO steps."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        blocks = split_into_blocks(make_layers())
        algorithm = MEZO(config=None, feedback=Feedback(seed=SEED), epsilon=epsilon, samples=samples)
        step = algorithm.build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
                               lambda: tf.compat.v1.train.GradientDescentOptimizer(learning_rate))
        variables = [v for block in blocks for v in block.variables]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            before = session.run(variables)
            projected = [session.run([step.train_op, algorithm.projected_gradient])[1] for _ in range(steps)]
            after = session.run(variables)
    return before, after, projected, graph


def numpy_step(weights, x, y, epsilon, step):
    """One SPSA step as the paper writes it, z regenerated from (seed, variable number, step), the
    in-place moves in float32 as the variables hold them."""
    z = [draws.normal(SEED, i, step, w.shape).numpy() for i, w in enumerate(weights)]
    eps = np.float32(epsilon)
    plus = [w + eps * v for w, v in zip(weights, z)]
    minus = [p - np.float32(2) * eps * v for p, v in zip(plus, z)]
    restored = [m + eps * v for m, v in zip(minus, z)]
    projected = (numpy_mlp.loss(plus, x, y) - numpy_mlp.loss(minus, x, y)) / (2 * epsilon)
    return [w - LR * projected * v for w, v in zip(restored, z)], projected, z


@pytest.mark.parametrize("epsilon", [1e-2, 1e-1])
def test_two_steps_match_numpy(epsilon):
    x, y = batch((4,), classes=3, size=8)
    before, after, projected, _ = run_mezo(numpy_mlp.mlp_layers, x, y, epsilon, steps=2)
    weights = before
    for step in range(2):
        weights, expected, _ = numpy_step(weights, x, y, epsilon, step)
        # float32 losses: their difference carries ~1e-7 of the loss, divided by 2 eps
        np.testing.assert_allclose(projected[step], expected, rtol=1e-4, atol=2e-5 / epsilon)
    for got, want, old in zip(after, weights, before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert not np.allclose(got, old)


def test_n_spsa_averages_its_perturbations_as_numpy_does():
    """mezo_samples n (the paper's n-SPSA): perturbation i's z of variable k is drawn from key
    i * (number of variables) + k; its g_i from its own moves; the update (1/n) sum_i g_i z_i."""
    x, y = batch((4,), classes=3, size=8)
    epsilon, samples = 1e-2, 3
    before, after, projected, _ = run_mezo(numpy_mlp.mlp_layers, x, y, epsilon, steps=2, samples=samples)
    weights = before
    for step in range(2):
        update = [np.zeros_like(w) for w in weights]
        for sample in range(samples):
            z = [draws.normal(SEED, sample * len(weights) + i, step, w.shape).numpy() for i, w in enumerate(weights)]
            eps = np.float32(epsilon)
            plus = [w + eps * v for w, v in zip(weights, z)]
            minus = [p - np.float32(2) * eps * v for p, v in zip(plus, z)]
            weights = [m + eps * v for m, v in zip(minus, z)]
            g = (numpy_mlp.loss(plus, x, y) - numpy_mlp.loss(minus, x, y)) / (2 * epsilon)
            np.testing.assert_allclose(projected[step][sample], g, rtol=1e-4, atol=2e-5 / epsilon)
            update = [u + g / samples * v for u, v in zip(update, z)]
        weights = [w - LR * u for w, u in zip(weights, update)]
    for got, want, old in zip(after, weights, before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert not np.allclose(got, old)


def test_projected_gradient_is_the_finite_difference_and_nears_the_directional_derivative():
    """g is the central difference it defines, and near grad L . z: off by O(eps^2 |z|^3), 3% here
    (|z| ~ 7 for 51 weights)."""
    x, y = batch((4,), classes=3, size=8, seed=4)
    before, _, projected, _ = run_mezo(numpy_mlp.mlp_layers, x, y, epsilon=1e-2)
    _, expected, z = numpy_step(before, x, y, 1e-2, 0)
    np.testing.assert_allclose(projected[0], expected, rtol=1e-3, atol=2e-3)
    directional = sum(float(np.sum(g * v)) for g, v in zip(numpy_mlp.gradients(before, x, y), z))
    assert abs(projected[0] - directional) < 0.05 * abs(directional)


def test_weights_are_restored_before_the_update():
    """With a zero learning rate the three in-place moves leave the weights where they were."""
    x, y = batch((4,), classes=3, size=8)
    before, after, _, _ = run_mezo(numpy_mlp.mlp_layers, x, y, epsilon=1e-3, learning_rate=0.0)
    for got, old in zip(after, before):
        np.testing.assert_allclose(got, old, atol=1e-6)


def test_any_layer_and_no_backward_op():
    """Only forward passes: a convolution, pooling and batch norm train, and nothing in the step is
    what the tracer counts as backward."""
    x, y = batch((4, 4, 1), classes=3, size=6)
    layers = lambda: [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME"), BatchNormalization(),  # noqa: E731
                      ReLu(), MaxPool([2, 2], [2, 2], "SAME"), FullyConnected(3, flatten=True)]
    before, after, projected, graph = run_mezo(layers, x, y, epsilon=1e-2)
    assert np.isfinite(projected[0]) and not np.allclose(after[0], before[0])
    for op in graph.get_operations():
        if not op.name.startswith(("model/", "shape_check/")):
            assert phase_of(op.name, op.type) != "backward", (op.name, op.type)
