"""DFA and DRTP against a few lines of numpy; DFA's local updates against tf.GradientTape."""
import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu, Sigmoid
from training.algorithms import DFA, DRTP
from tests.training.algorithms.harness import batch, run_steps

ACTIVATIONS = {
    "sigmoid": (Sigmoid, lambda a: 1 / (1 + np.exp(-a)), lambda a: (s := 1 / (1 + np.exp(-a))) * (1 - s)),
    "relu": (ReLu, lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(np.float32)),
}
LR = 0.1


def mlp(activation):
    return lambda: [FullyConnected(6), activation(), FullyConnected(5), activation(), FullyConnected(3)]


def numpy_step(weights, matrices, x, y, f, df, hidden_signal):
    """One step of the DFA equations (Nøkland 2016) on a 3-layer MLP; DRTP swaps the signal."""
    w1, b1, w2, b2, w3, b3 = weights
    a1 = x @ w1 + b1
    h1 = f(a1)
    a2 = h1 @ w2 + b2
    h2 = f(a2)
    logits = h2 @ w3 + b3
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    e = (p - y) / len(x)  # d mean softmax cross-entropy / d logits
    signal = hidden_signal(e, y)
    d1 = (signal @ matrices[0]) * df(a1)
    d2 = (signal @ matrices[1]) * df(a2)
    grads = [x.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ e, e.sum(0)]
    return [w - LR * g for w, g in zip(weights, grads)]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("algorithm,signal", [(DFA, lambda e, y: e), (DRTP, lambda e, y: -y)])
def test_one_step_matches_numpy(name, algorithm, signal):
    layer, f, df = ACTIVATIONS[name]
    x, y = batch((4,), classes=3, size=8)
    run = run_steps(algorithm, mlp(layer), x, y, learning_rate=LR)
    expected = numpy_step(run.before, [run.feedback[0], run.feedback[1]], x, y, f, df, signal)
    assert run.feedback[0].shape == (3, 6) and run.feedback[1].shape == (3, 5)
    for got, want, old in zip(run.after, expected, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


@pytest.mark.parametrize("first_block", [
    lambda: [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME", add_biases=True), ReLu(),
             MaxPool([2, 2], [2, 2], "SAME")],
    lambda: [FullyConnected(5, flatten=True), BatchNormalization(momentum=0.9), Sigmoid()],
], ids=["conv_block", "batch_norm_block"])
def test_block_update_is_the_local_gradient_of_the_projected_error(first_block):
    x, y = batch((4, 4, 1), classes=3, size=6, seed=1)
    last = lambda: [FullyConnected(3, flatten=True)]
    run = run_steps(DFA, lambda: first_block() + last(), x, y, learning_rate=LR)

    layers = first_block()
    head = last()
    h = tf.constant(x)
    for layer in layers + head:  # build, then load the graph's weights
        h = layer.forward(h, training=True)
    eager_variables = [v for layer in layers + head for v in layer.variables]
    for variable, value in zip(eager_variables, run.before):
        variable.assign(value)
    with tf.GradientTape(persistent=True) as tape:
        block_output = tf.constant(x)
        for layer in layers:
            block_output = layer.forward(block_output, training=True)
        logits = head[0].forward(block_output, training=True)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    error = tape.gradient(loss, logits)
    projected = tf.reshape(error @ run.feedback[0], block_output.shape)  # full shape of the block output
    block_variables = [v for layer in layers for v in layer.variables]
    local = tape.gradient(block_output, block_variables, output_gradients=projected)
    for old, new, gradient in zip(run.before, run.after, local):
        np.testing.assert_allclose(new, old - LR * gradient.numpy(), rtol=1e-5, atol=1e-6)
