import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization

# The fused kernel is the family's own (Eigen's, oneDNN's): `make test` runs these under both.
pytestmark = pytest.mark.kernels


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


def _run(layer, x, training, dy):
    """The layer's output, its gradients to the input, gamma and beta, and the moving averages
    after its updates, all against numpy values of the same batch."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer.forward(x, training=training)
    gradients = tape.gradient(y, [x, layer.gamma, layer.beta], output_gradients=tf.constant(dy))
    layer.pop_updates()
    return [y.numpy(), *(g.numpy() for g in gradients), layer.moving_mean.numpy(), layer.moving_variance.numpy()]


@pytest.mark.parametrize("shape", [(64, 5), (8, 3, 3, 5)], ids=["dense", "conv"])
@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
def test_fused_and_unfused_compute_the_same_values(shape, training):
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=shape).astype(np.float32)
    dy = rng.normal(size=shape).astype(np.float32)
    results = []
    for fused in (True, False):
        layer = BatchNormalization(momentum=0.9, fused=fused)
        layer.forward(tf.constant(x), training=True)  # builds the variables
        layer.pop_updates()
        layer.gamma.assign(np.linspace(0.5, 1.5, shape[-1]).astype(np.float32))
        layer.beta.assign(np.linspace(-1, 1, shape[-1]).astype(np.float32))
        layer.moving_mean.assign(np.full(shape[-1], 0.5, np.float32))
        layer.moving_variance.assign(np.full(shape[-1], 2.0, np.float32))
        results.append(_run(layer, x, training, dy))
    for name, fused, unfused in zip(["y", "dx", "dgamma", "dbeta", "moving_mean", "moving_variance"], *results):
        np.testing.assert_allclose(fused, unfused, rtol=1e-4, atol=1e-4, err_msg=name)
    # and both are batch norm: numpy's statistics of the batch (the variance the batch's own, not n/(n-1) of it)
    axes = tuple(range(len(shape) - 1))
    if training:
        mean, variance = x.mean(axis=axes), x.var(axis=axes)
        np.testing.assert_allclose(results[0][4], 0.9 * 0.5 + 0.1 * mean, rtol=1e-5)
        np.testing.assert_allclose(results[0][5], 0.9 * 2.0 + 0.1 * variance, rtol=1e-5)
    else:
        mean, variance = np.float32(0.5), np.float32(2.0)
    expected = (x - mean) / np.sqrt(variance + 1e-3) * np.linspace(0.5, 1.5, shape[-1]) + np.linspace(-1, 1, shape[-1])
    np.testing.assert_allclose(results[0][0], expected, rtol=1e-4, atol=1e-4)


def _op_types(layer, shape):
    with tf.Graph().as_default() as graph:
        y = layer.forward(tf.compat.v1.placeholder(tf.float32, [None, *shape]), training=True)
        tf.gradients(y, layer.variables)
    return {op.type for op in graph.get_operations()}


def test_the_fused_kernel_runs_over_the_last_axis_of_2d_and_4d_inputs_only():
    assert {"FusedBatchNormV3", "FusedBatchNormGradV3"} <= _op_types(BatchNormalization(), (4, 4, 3))
    assert "FusedBatchNormV3" in _op_types(BatchNormalization(), (3,))
    assert "FusedBatchNormV3" not in _op_types(BatchNormalization(fused=False), (4, 4, 3))
    # another axis, or another rank, takes moments + batch_normalization
    assert "FusedBatchNormV3" not in _op_types(BatchNormalization(axis=1), (4, 4, 3))
    assert "FusedBatchNormV3" not in _op_types(BatchNormalization(), (4, 3))


def test_the_fused_kernel_keeps_an_epsilon_below_cudnns_minimum():
    # tf.nn.fused_batch_norm would raise it to 1.001e-5: with a batch variance of 1e-4 the output's
    # standard deviation would then be 0.95, not 1.
    x = np.random.default_rng(2).normal(0.0, 0.01, size=(256, 4, 4, 2)).astype(np.float32)
    y = BatchNormalization(epsilon=1e-9).forward(tf.constant(x), training=True).numpy()
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-3)
