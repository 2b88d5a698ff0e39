import numpy as np
import pytest
import tensorflow as tf

from layers import FullyConnected


def test_output_shape_and_values_match_matmul():
    layer = FullyConnected(5)
    x = tf.constant(np.random.default_rng(0).random((3, 4)), tf.float32)
    y = layer.forward(x, training=True)
    assert y.shape == (3, 5)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ layer.kernel.numpy() + layer.bias.numpy(), rtol=1e-6,
                               atol=1e-6)  # float32 sums: an output near 0 has no 1e-6 relative precision


def test_variables_created_once_on_first_forward():
    layer = FullyConnected(5, add_biases=False)
    assert layer.variables == []
    x = tf.ones([2, 4])
    layer.forward(x, training=True)
    first = layer.variables
    layer.forward(x, training=False)
    assert layer.variables == first and len(first) == 1
    assert first[0].shape == (4, 5)


def test_flatten_reshapes_images():
    y = FullyConnected(7, flatten=True).forward(tf.ones([2, 3, 3, 2]), training=True)
    assert y.shape == (2, 7)


def test_image_input_without_flatten_names_the_shape():
    with pytest.raises(ValueError, match=r"flat input .*\(2, 3, 3, 2\).*flatten=True"):
        FullyConnected(7).forward(tf.ones([2, 3, 3, 2]), training=True)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_bad_output_dim_names_the_value(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(").replace(".", r"\.")):
        FullyConnected(bad)


def test_str_is_a_readable_spec():
    assert str(FullyConnected(100)) == "FullyConnected(100)"
    assert str(FullyConnected(10, flatten=True)) == "FullyConnected(10, flatten=True)"
