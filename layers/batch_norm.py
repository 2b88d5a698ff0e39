"""BatchNormalization: batch statistics in training, moving averages in evaluation.

The normalisation over the last axis of a 2-D or 4-D input runs as TensorFlow's fused kernel
(FusedBatchNormV3 and its gradient: one op each way, on Eigen, oneDNN and cuDNN alike) unless the
layer is built with fused=False; any other axis or rank takes moments + batch_normalization, whose
forward and backward are some twenty element-wise ops and five full-size temporaries. Measured in
vgg_16's steps at batch 16 (benchmarks/fused_batch_norm.py), the fused ops take about half the
unfused ones' time on both kernel families (about the same on resnet_18's); both compute the same
values (tests/layers/test_batch_norm.py).
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer
from layers.checks import check_bool, check_number, format_shape
from layers.registry import register


def unfused(layers):
    """`layers` with every BatchNormalization rebuilt with fused=False, its other settings kept."""
    return [BatchNormalization(**{**layer.get_config(), "fused": False}) if isinstance(layer, BatchNormalization)
            else layer for layer in layers]


@register
class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, fused=True, name=None):
        super().__init__(name=name)
        self.fused = check_bool("fused", fused, "BatchNormalization")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ConfigError(f"BatchNormalization: axis must be an integer, got {axis!r}")
        self.axis = axis
        self.momentum = check_number("momentum", momentum, "BatchNormalization", low=0.0, high=1.0)
        self.epsilon = check_number("epsilon", epsilon, "BatchNormalization", low=1e-12)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ConfigError(f"{self}: axis {self.axis} is not a feature axis of an input of shape "
                              f"{format_shape(input_shape)}")
        channels = [input_shape[self.axis]]
        self.gamma = self.add_weight("gamma", tf.ones(channels))
        self.beta = self.add_weight("beta", tf.zeros(channels))
        self.moving_mean = self.add_weight("moving_mean", tf.zeros(channels), trainable=False)
        self.moving_variance = self.add_weight("moving_variance", tf.ones(channels), trainable=False)

    def call(self, x, training):
        axis = self.axis % x.shape.rank
        if self.fused and x.shape.rank in (2, 4) and axis == x.shape.rank - 1:
            return self._fused_call(x, training)
        reduce_axes = [i for i in range(x.shape.rank) if i != axis]
        shape = [1] * x.shape.rank
        shape[axis] = -1
        if training:
            mean, variance = tf.nn.moments(x, axes=reduce_axes)
            decay = 1.0 - self.momentum
            # Stored, not run: the algorithm decides when the moving averages move (once a step).
            self._pending_updates += [
                self.moving_mean.assign_sub(decay * (self.moving_mean - tf.stop_gradient(mean))),
                self.moving_variance.assign_sub(decay * (self.moving_variance - tf.stop_gradient(variance))),
            ]
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return tf.nn.batch_normalization(
            x, tf.reshape(mean, shape), tf.reshape(variance, shape),
            tf.reshape(self.beta, shape), tf.reshape(self.gamma, shape), self.epsilon)

    def _fused_call(self, x, training):
        """FusedBatchNormV3 over the channels of a (batch, H, W, C) input, or of a (batch, C) one seen
        as (batch, 1, 1, C). Called directly, not through tf.compat.v1.nn.fused_batch_norm, which
        raises epsilon to cuDNN's minimum: the layer's epsilon is the user's."""
        x4 = tf.reshape(x, [-1, 1, 1, x.shape[-1]]) if x.shape.rank == 2 else x
        if training:
            mean, variance = tf.zeros([0]), tf.zeros([0])
        else:
            mean, variance = self.moving_mean, self.moving_variance
        y, batch_mean, batch_variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x4, scale=self.gamma, offset=self.beta, mean=mean, variance=variance, epsilon=self.epsilon,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=training)
        if training:
            # The kernel returns the unbiased variance (n / (n - 1) times the batch's); the moving
            # average follows the batch's own, as the unfused path and Keras' layer keep it.
            count = tf.cast(tf.size(x4) // tf.shape(x4)[-1], batch_variance.dtype)
            population = batch_variance * (count - 1.0) / tf.maximum(count, 1.0)
            decay = 1.0 - self.momentum
            self._pending_updates += [
                self.moving_mean.assign_sub(decay * (self.moving_mean - tf.stop_gradient(batch_mean))),
                self.moving_variance.assign_sub(decay * (self.moving_variance - tf.stop_gradient(population))),
            ]
        return tf.reshape(y, [-1, x.shape[-1]]) if x.shape.rank == 2 else y

    def get_config(self):
        return {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "fused": self.fused,
                "name": self.name}
