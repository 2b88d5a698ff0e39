"""PEPITA against Algorithm 1 of Dellaferrera & Kreiman (ICML 2022), written in numpy."""
import numpy as np
import pytest
import tensorflow as tf

from definitions.errors import ConfigError
from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu, Sigmoid, Tanh
from training.algorithms import PEPITA
from training.algorithms.pepita import F_GAIN, F_KEY
from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy
from tests.training.algorithms.harness import batch, run_steps

ACTIVATIONS = {"tanh": (Tanh, np.tanh), "relu": (ReLu, lambda a: np.maximum(a, 0)),
               "sigmoid": (Sigmoid, lambda a: 1 / (1 + np.exp(-a)))}
LR = 0.1


def mlp(activation):
    return lambda: [FullyConnected(6), activation(), FullyConnected(5), activation(), FullyConnected(3)]


def paper_step(weights, F, x, y, f):
    """Algorithm 1, in float64: two forward passes and the outer-product updates, averaged over the batch.
    Biases (an extension: weights on a constant 1) take the same differences."""
    x, F, weights = x.astype(np.float64), F.astype(np.float64), [w.astype(np.float64) for w in weights]
    (w1, b1), (w2, b2), (w3, b3) = zip(weights[0::2], weights[1::2])
    h1 = f(x @ w1 + b1)
    h2 = f(h1 @ w2 + b2)
    out = h2 @ w3 + b3
    p = np.exp(out - out.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    e = p - y  # h_L - target, h_L the softmax output
    x_mod = x - e @ F  # the modulated input
    h1_mod = f(x_mod @ w1 + b1)
    h2_mod = f(h1_mod @ w2 + b2)
    n = len(x)
    deltas = [x_mod.T @ (h1 - h1_mod) / n, (h1 - h1_mod).mean(0),
              h1_mod.T @ (h2 - h2_mod) / n, (h2 - h2_mod).mean(0),
              h2_mod.T @ e / n, e.mean(0)]  # the last layer: the error times the modulated input
    return [w - LR * d for w, d in zip(weights, deltas)]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["paper_F", "large_F"])
def test_one_step_matches_algorithm_1(name, scale):
    layer, f = ACTIVATIONS[name]
    x, y = batch((4,), classes=3, size=8)
    run = run_steps(PEPITA, mlp(layer), x, y, learning_rate=LR, feedback=Feedback(seed=3, scale=scale))
    F = run.feedback[F_KEY]
    assert F.shape == (3, 4)
    assert np.abs(F).max() <= scale * F_GAIN * np.sqrt(6 / 4) + 1e-7
    expected = paper_step(run.before, F, x, y, f)
    for got, want, old in zip(run.after, expected, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


def test_a_regenerated_F_is_the_stored_one():
    """feedback=regenerate rebuilds F from the seed in every step: the same update, nothing stored."""
    x, y = batch((4,), classes=3, size=8)
    stored = run_steps(PEPITA, mlp(Tanh), x, y, learning_rate=LR, feedback=Feedback(seed=3, scale=30.0))
    regenerated = run_steps(PEPITA, mlp(Tanh), x, y, learning_rate=LR,
                            feedback=Feedback(seed=3, scale=30.0, regenerate=True), initial=stored.before)
    assert regenerated.feedback == {}
    for a, b in zip(regenerated.after, stored.after):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_an_image_input_is_modulated_in_its_own_shape():
    """F maps the error to the flattened input; the first dense layer flattens the modulated image."""
    x, y = batch((2, 2, 1), classes=3, size=8)
    flat = lambda: [FullyConnected(6, flatten=True), Tanh(), FullyConnected(5), Tanh(), FullyConnected(3)]
    run = run_steps(PEPITA, flat, x, y, learning_rate=LR, feedback=Feedback(seed=3, scale=30.0))
    expected = paper_step(run.before, run.feedback[F_KEY], x.reshape(8, 4), y, np.tanh)
    for got, want in zip(run.after, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layers,culprit", [
    (lambda: [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME"), ReLu(), FullyConnected(3, flatten=True)],
     "block_0 has ConvolutionalLayer"),
    (lambda: [FullyConnected(6), BatchNormalization(momentum=0.9), Tanh(), FullyConnected(3)],
     "block_0 has BatchNormalization"),
])
def test_layers_the_paper_does_not_define_are_refused(layers, culprit):
    x, y = batch((4, 4, 1) if "Conv" in culprit else (4,), classes=3, size=8)
    with tf.Graph().as_default():
        blocks = split_into_blocks(layers())
        with pytest.raises(ConfigError, match=f"PEPITA is defined for dense layers.*{culprit}"):
            PEPITA(None).build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
                               lambda: tf.compat.v1.train.GradientDescentOptimizer(LR))
