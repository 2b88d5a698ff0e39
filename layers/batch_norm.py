"""BatchNormalization: batch statistics in training, moving averages in evaluation."""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer
from layers.checks import check_number, format_shape
from layers.registry import register


@register
class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name=name)
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

    def get_config(self):
        return {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "name": self.name}
