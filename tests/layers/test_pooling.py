import numpy as np
import pytest
import tensorflow as tf

from layers import AveragePool, MaxPool


def test_max_pool_shape_and_values():
    x = tf.reshape(tf.range(16, dtype=tf.float32), [1, 4, 4, 1])
    y = MaxPool([2, 2], [2, 2], "VALID").forward(x, training=True)
    assert y.shape == (1, 2, 2, 1)
    np.testing.assert_array_equal(y.numpy().ravel(), [5, 7, 13, 15])


def test_average_pool_with_kernel():
    y = AveragePool([3, 3], [2, 2], "SAME").forward(tf.ones([2, 8, 8, 3]), training=True)
    assert y.shape == (2, 4, 4, 3)


def test_global_average_pool_when_kernel_is_none():
    x = tf.constant(np.random.default_rng(0).random((2, 4, 4, 3)), tf.float32)
    y = AveragePool(kernel_size=None).forward(x, training=True)
    assert y.shape == (2, 3)
    np.testing.assert_allclose(y.numpy(), x.numpy().mean(axis=(1, 2)), rtol=1e-6)


def test_no_variables():
    layer = MaxPool([2, 2], [2, 2], "SAME")
    layer.forward(tf.ones([1, 4, 4, 1]), training=True)
    assert layer.variables == []


@pytest.mark.parametrize("kwargs,shown", [({"padding": "valid!"}, "valid!"), ({"kernel_size": [2, 2, 2]}, r"\[2, 2, 2\]"),
                                          ({"strides": [0, 1]}, "0")])
def test_bad_settings(kwargs, shown):
    with pytest.raises(ValueError, match=shown):
        MaxPool(**{"kernel_size": [2, 2], "strides": [2, 2], "padding": "SAME", **kwargs})
