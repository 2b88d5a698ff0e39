import numpy as np
import pytest
import tensorflow as tf

from layers import LeakyReLu, ReLu, Sigmoid, Softmax, Tanh

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], np.float32)


@pytest.mark.parametrize("layer,reference", [
    (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (Tanh(), np.tanh),
    (ReLu(), lambda x: np.maximum(x, 0)),
    (LeakyReLu(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (Softmax(), lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
])
def test_matches_numpy(layer, reference):
    np.testing.assert_allclose(layer.forward(tf.constant(X), training=True).numpy(), reference(X), rtol=1e-5)
    assert layer.variables == []


def test_leaky_relu_alpha_checked():
    with pytest.raises(ValueError, match="-1"):
        LeakyReLu(-1)
    assert str(LeakyReLu(0.1)) == "LeakyReLu(alpha=0.1)"
