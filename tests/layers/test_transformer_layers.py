"""The transformer's layers against references with the same weights: numpy, and Keras' own layers."""
import math

import numpy as np
import pytest
import tensorflow as tf

from layers import (GELU, Embedding, FullyConnected, LayerNormalization, MultiHeadAttention, PositionEmbedding,
                    ResidualLayer)

RNG = np.random.default_rng(0)


def _sequence(batch=2, time=5, dim=8):
    return tf.constant(RNG.standard_normal((batch, time, dim)), tf.float32)


def test_embedding_looks_up_rows_and_its_gradient_is_dense_sums_per_token():
    layer = Embedding(7, 3)
    ids = np.array([[1, 4, 1], [0, 6, 1]])
    with tf.GradientTape() as tape:
        y = layer.forward(tf.constant(ids, tf.float32), training=True)  # ids arrive as float32
        weights = tf.constant(RNG.standard_normal(y.shape), tf.float32)
        loss = tf.reduce_sum(y * weights)
    table = layer.kernel.numpy()
    np.testing.assert_array_equal(y.numpy(), table[ids])
    gradient = tape.gradient(loss, layer.kernel)
    assert isinstance(gradient, tf.Tensor)  # dense, not IndexedSlices
    expected = np.zeros_like(table)
    np.add.at(expected, ids.reshape(-1), weights.numpy().reshape(-1, 3))
    np.testing.assert_allclose(gradient.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_embedding_wants_token_ids():
    with pytest.raises(ValueError, match=r"Embedding\(7, 3\).*\(2, 5, 8\)"):
        Embedding(7, 3).forward(_sequence(), training=True)


def test_position_embedding_adds_a_vector_per_position_and_refuses_longer_inputs():
    layer = PositionEmbedding(6)
    x = _sequence(time=5)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.numpy(), x.numpy() + layer.table.numpy()[None, :5], rtol=1e-6)
    assert layer.table.shape == (6, 8)
    with pytest.raises(ValueError, match=r"PositionEmbedding\(4\).*\(2, 5, 8\).*max_length 4"):
        PositionEmbedding(4).forward(x, training=True)


def test_layer_normalization_matches_keras():
    import keras
    x = _sequence()
    ours = LayerNormalization()
    ours.forward(x, training=True)
    gamma, beta = RNG.standard_normal(8).astype(np.float32), RNG.standard_normal(8).astype(np.float32)
    ours.gamma.assign(gamma)
    ours.beta.assign(beta)
    reference = keras.layers.LayerNormalization(epsilon=1e-5)
    reference.build(x.shape)
    reference.set_weights([gamma, beta])
    np.testing.assert_allclose(ours.forward(x, training=False).numpy(), reference(x).numpy(), rtol=1e-5, atol=1e-5)


def test_gelu_matches_keras():
    import keras
    x = _sequence()
    np.testing.assert_allclose(GELU().forward(x, training=True).numpy(),
                               keras.activations.gelu(x, approximate=False).numpy(), rtol=1e-6, atol=1e-6)


def test_fully_connected_acts_per_position_on_a_sequence():
    layer = FullyConnected(3)
    x = _sequence()
    y = layer.forward(x, training=True)
    assert y.shape == (2, 5, 3) and layer.kernel.shape == (8, 3)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ layer.kernel.numpy() + layer.bias.numpy(), rtol=1e-5, atol=1e-5)


def _attention_reference(x, kernel, bias, heads, causal):
    """numpy: softmax(q k^T / sqrt(size) + mask) v, per head, then the output projection."""
    batch, time, dim = x.shape
    size = dim // heads
    q, k, v = ((x @ kernel[i] + bias[i]).reshape(batch, time, heads, size).transpose(0, 2, 1, 3) for i in range(3))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    if causal:
        scores = np.where(np.tril(np.ones((time, time), bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, time, dim)
    return mixed @ kernel[3] + bias[3]


@pytest.mark.parametrize("causal", [True, False])
def test_attention_matches_numpy(causal):
    layer = MultiHeadAttention(2, causal=causal)
    x = _sequence()
    layer.forward(x, training=True)
    layer.bias.assign(RNG.standard_normal((4, 8)).astype(np.float32))
    y = layer.forward(x, training=True).numpy()
    expected = _attention_reference(x.numpy().astype(np.float64), layer.kernel.numpy(), layer.bias.numpy(), 2, causal)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_causal_attention_does_not_look_ahead():
    layer = MultiHeadAttention(4)
    x = _sequence().numpy()
    changed = x.copy()
    changed[:, 3:] += 1.0
    before, after = (layer.forward(tf.constant(value), training=True).numpy() for value in (x, changed))
    np.testing.assert_allclose(before[:, :3], after[:, :3], rtol=1e-6, atol=1e-6)
    assert not np.allclose(before[:, 3:], after[:, 3:])


def test_attention_feedback_kernel_reaches_each_projection():
    """Under FA the input gradient goes through the backward kernel, slice by slice: with the true
    kernel as feedback the gradients are BP's; with one slice changed, they differ (FA's swap is
    built with tf.gradients: a graph)."""
    values = _sequence().numpy()
    with tf.Graph().as_default():
        layer = MultiHeadAttention(2)
        x = tf.constant(values)
        layer.forward(x, training=True)
        feedback = tf.compat.v1.placeholder(tf.float32, [4, 8, 8])

        def gradients(backward_kernel):
            layer.backward_kernel = backward_kernel
            loss = tf.reduce_sum(tf.sin(layer.forward(x, training=True)))
            return tf.gradients(loss, [x, layer.kernel])

        plain, swapped = gradients(None), gradients(lambda: feedback)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            kernel = session.run(layer.kernel)
            expected = session.run(plain)
            same = session.run(swapped, {feedback: kernel})
            for a, b in zip(expected, same):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
            for which in range(4):
                other = kernel.copy()
                other[which] = RNG.standard_normal(other[which].shape)
                to_input, to_kernel = session.run(swapped, {feedback: other})
                assert not np.allclose(to_input, expected[0], atol=1e-4), which
                # The output projection's weight gradient reads the true error at the output; the
                # others read what the feedback sent back through it.
                np.testing.assert_allclose(to_kernel[3], expected[1][3], rtol=1e-4, atol=1e-5)


def test_attention_shapes_that_do_not_fit_name_the_layer():
    with pytest.raises(ValueError, match=r"MultiHeadAttention\(4\).*sequence.*\(3, 8\)"):
        MultiHeadAttention(4).forward(tf.ones([3, 8]), training=True)
    with pytest.raises(ValueError, match=r"MultiHeadAttention\(3\).*8.*3 heads"):
        MultiHeadAttention(3).forward(tf.ones([3, 5, 8]), training=True)


def test_pre_norm_blocks_keep_the_shape():
    x = _sequence()
    attention = ResidualLayer([LayerNormalization(), MultiHeadAttention(4)])
    mlp = ResidualLayer([LayerNormalization(), FullyConnected(32), GELU(), FullyConnected(8)])
    y = mlp.forward(attention.forward(x, training=True), training=True)
    assert y.shape == x.shape
    assert [type(layer).__name__ for layer in attention.kernels + mlp.kernels] == \
        ["MultiHeadAttention", "FullyConnected", "FullyConnected"]
