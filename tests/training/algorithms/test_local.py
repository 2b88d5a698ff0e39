"""LOCAL against greedy local learning (Belilovsky et al. 2019, 2020) written in numpy, and its heads."""
import numpy as np
import pytest
import tensorflow as tf

from definitions.errors import ConfigError
from layers import ConvolutionalLayer, FullyConnected, ReLu, Tanh
from training.algorithms import LOCAL
from training.blocks import split_into_blocks
from training.losses import softmax_cross_entropy
from tests.training.algorithms.harness import batch, run_steps

LR = 0.1


def softmax_error(logits, y):
    """d mean softmax cross-entropy / d logits."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return (p - y) / len(y)


def greedy_step(values, x, y):
    """One step of the greedy rule on tanh blocks 6 -> 5 -> 3 with dense heads on blocks 0 and 1: each
    block and its head descend the head's loss on the block's output; the input is a constant (no
    gradient reaches the previous block); the last block descends the network's loss."""
    w1, b1, w2, b2, w3, b3, a1, c1, a2, c2 = [v.astype(np.float64) for v in values]
    x = x.astype(np.float64)
    updated = {}
    h0 = x
    for w, b, a, c, name in ((w1, b1, a1, c1, 1), (w2, b2, a2, c2, 2)):
        h = np.tanh(h0 @ w + b)
        g = softmax_error(h @ a + c, y)  # the head's error
        da = h.T @ g
        dpre = (g @ a.T) * (1 - h ** 2)
        updated[name] = (w - LR * h0.T @ dpre, b - LR * dpre.sum(0), a - LR * da, c - LR * g.sum(0))
        h0 = h  # the next block reads this block's output from before its update
    g = softmax_error(h0 @ w3 + b3, y)
    (nw1, nb1, na1, nc1), (nw2, nb2, na2, nc2) = updated[1], updated[2]
    return [nw1, nb1, nw2, nb2, w3 - LR * h0.T @ g, b3 - LR * g.sum(0), na1, nc1, na2, nc2]


def test_one_step_matches_the_greedy_rule():
    x, y = batch((4,), classes=3, size=8)
    layers = lambda: [FullyConnected(6), Tanh(), FullyConnected(5), Tanh(), FullyConnected(3)]
    run = run_steps(LOCAL, layers, x, y, learning_rate=LR, every_trainable=True)
    assert [v.shape for v in run.before[6:]] == [(6, 3), (3,), (5, 3), (3,)]  # the two heads
    expected = greedy_step(run.before, x, y)
    for got, want, old in zip(run.after, expected, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


def test_a_convolutional_block_gets_a_pooled_dense_head():
    """Global average pooling then a dense layer; the block's update is the local gradient of that head's loss."""
    x, y = batch((4, 4, 1), classes=3, size=6, seed=1)
    layers = lambda: [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME", add_biases=True), ReLu(),
                      FullyConnected(3, flatten=True)]
    run = run_steps(LOCAL, layers, x, y, learning_rate=LR, every_trainable=True)
    kernel, bias, _, _, head_kernel, head_bias = run.before
    assert head_kernel.shape == (2, 3)  # channels -> classes
    with tf.GradientTape() as tape:
        variables = [tf.Variable(v) for v in (kernel, bias, head_kernel, head_bias)]
        h = tf.nn.relu(tf.nn.conv2d(x, variables[0], 1, "SAME") + variables[1])
        logits = tf.reduce_mean(h, axis=[1, 2]) @ variables[2] + variables[3]
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    gradients = tape.gradient(loss, variables)
    for position, gradient in zip((0, 1, 4, 5), gradients):
        np.testing.assert_allclose(run.after[position], run.before[position] - LR * gradient.numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_a_sequence_of_one_block_is_refused():
    x, y = batch((4,), classes=3, size=8)
    with tf.Graph().as_default():
        blocks = split_into_blocks([FullyConnected(3)])
        with pytest.raises(ConfigError, match="LOCAL .* needs at least two blocks .* this sequence has 1: use BP"):
            LOCAL(None).build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
                              lambda: tf.compat.v1.train.GradientDescentOptimizer(LR))
