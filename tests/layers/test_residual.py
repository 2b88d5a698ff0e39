import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu, ResidualLayer


def test_identity_shortcut_when_shapes_match():
    inner = FullyConnected(4)
    layer = ResidualLayer([inner])
    x = tf.constant(np.random.default_rng(0).random((2, 4)), tf.float32)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.numpy(), inner.forward(x, True).numpy() + x.numpy(), rtol=1e-6)
    assert layer.projection is None and len(layer.variables) == 2


def test_projection_shortcut_when_shapes_differ():
    layer = ResidualLayer([ConvolutionalLayer((3, 3), 8, strides=[2, 2], padding="SAME"), BatchNormalization(), ReLu()])
    y = layer.forward(tf.ones([2, 8, 8, 4]), training=True)
    assert y.shape == (2, 4, 4, 8)
    assert layer.projection.kernel.shape == (1, 1, 4, 8) and layer.projection.strides == (2, 2)
    layer.forward(tf.ones([2, 8, 8, 4]), training=True)
    assert len(layer.variables) == 4  # conv kernel, gamma, beta, projection kernel: created once


def test_bad_sequence():
    with pytest.raises(ValueError, match="non-empty list"):
        ResidualLayer([])
