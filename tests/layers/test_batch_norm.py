import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization


def test_training_uses_batch_statistics_and_stores_average_updates():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 5)).astype(np.float32)
    layer = BatchNormalization(momentum=0.9)
    y = layer.forward(tf.constant(x), training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-2)
    # Eagerly the assign ops ran already; the layer still hands them over, once.
    assert len(layer.pop_updates()) == 2 and layer.pop_updates() == []
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(axis=0), rtol=1e-4)


def test_evaluation_uses_moving_averages():
    layer = BatchNormalization()
    layer.forward(tf.ones([4, 3]), training=True)
    layer.pop_updates()
    layer.moving_mean.assign([1.0, 2.0, 3.0])
    layer.moving_variance.assign([4.0, 4.0, 4.0])
    y = layer.forward(tf.constant([[1.0, 2.0, 5.0]]), training=False).numpy()
    np.testing.assert_allclose(y, [[0.0, 0.0, 2.0 / np.sqrt(4.0 + 1e-3)]], rtol=1e-5)
    assert layer.pop_updates() == []


def test_conv_input_normalises_channels():
    layer = BatchNormalization(axis=-1)
    layer.forward(tf.ones([2, 4, 4, 6]), training=True)
    assert layer.gamma.shape == (6,) and len(layer.variables) == 2 and len(layer.non_trainable_variables) == 2


def test_bad_settings():
    with pytest.raises(ValueError, match="1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="'x'"):
        BatchNormalization(axis="x")
    with pytest.raises(ValueError, match="axis 0"):
        BatchNormalization(axis=0).forward(tf.ones([2, 3]), training=True)
