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


def test_a_residual_layer_that_joins_the_block_before_it():
    """joins_block=True: no block of its own (DFA's error arrives after both); a weight layer after
    it starts the next block; first in a sequence it has nothing to join and starts the first."""
    from training.blocks import split_into_blocks

    def names(layers):
        return [[type(layer).__name__ + ("+" if layer.joins_block else "") for layer in block.layers]
                for block in split_into_blocks(layers)]

    joining = ResidualLayer([FullyConnected(4), ReLu()], joins_block=True)
    assert names([FullyConnected(4), ReLu(), joining, FullyConnected(2)]) == \
        [["FullyConnected", "ReLu", "ResidualLayer+"], ["FullyConnected"]]
    alone = ResidualLayer([FullyConnected(4)], joins_block=True)
    assert names([alone, FullyConnected(2)]) == [["ResidualLayer+"], ["FullyConnected"]]
    assert names([ResidualLayer([FullyConnected(4)]), FullyConnected(2)]) == [["ResidualLayer"], ["FullyConnected"]]


def test_joins_block_must_be_a_bool():
    from definitions.errors import ConfigError
    with pytest.raises(ConfigError, match="joins_block must be True or False"):
        ResidualLayer([FullyConnected(4)], joins_block="yes")
