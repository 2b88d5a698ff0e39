import numpy as np
import pytest
import tensorflow as tf

from layers import ConvolutionalLayer


@pytest.mark.parametrize("padding,strides,expected", [("SAME", [1, 1], (2, 8, 8, 4)), ("SAME", [2, 2], (2, 4, 4, 4)),
                                                      ("VALID", [1, 1], (2, 6, 6, 4))])
def test_output_shape(padding, strides, expected):
    layer = ConvolutionalLayer((3, 3), 4, strides=strides, padding=padding)
    assert layer.forward(tf.ones([2, 8, 8, 3]), training=True).shape == expected
    assert layer.kernel.shape == (3, 3, 3, 4)
    assert layer.bias is None  # the original's default: no biases on convolutions


def test_matches_tf_conv2d_and_reuses_variables():
    layer = ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME", add_biases=True)
    x = tf.constant(np.random.default_rng(1).random((1, 5, 5, 1)), tf.float32)
    y = layer.forward(x, training=True)
    expected = tf.nn.conv2d(x, layer.kernel, strides=1, padding="SAME") + layer.bias
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-6)
    layer.forward(x, training=True)
    assert len(layer.variables) == 2


def test_tf1_style_four_element_strides_are_accepted():
    assert ConvolutionalLayer((3, 3), 4, strides=[1, 2, 2, 1], padding="SAME").strides == (2, 2)


@pytest.mark.parametrize("kwargs,shown", [
    ({"padding": "same "}, "'same '"),
    ({"strides": [1, 1, 1]}, r"\[1, 1, 1\]"),
    ({"filter_dim": (-3, 3)}, "-3"),
    ({"num_of_filters": 0}, "0"),
])
def test_bad_settings_name_the_value(kwargs, shown):
    settings = {"filter_dim": (3, 3), "num_of_filters": 4, "strides": [1, 1], "padding": "SAME", **kwargs}
    with pytest.raises(ValueError, match=shown):
        ConvolutionalLayer(**settings)


def test_flat_input_is_refused_with_its_shape():
    with pytest.raises(ValueError, match=r"image input.*\(2, 16\)"):
        ConvolutionalLayer((3, 3), 4).forward(tf.ones([2, 16]), training=True)
