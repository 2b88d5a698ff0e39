"""LayerNormalization: each position normalised over its features, then scaled and offset.

Unlike batch normalisation it has no state and behaves the same in training and evaluation.
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer
from layers.checks import check_number, format_shape
from layers.registry import register


@register
class LayerNormalization(Layer):
    def __init__(self, epsilon=1e-5, name=None):
        super().__init__(name=name)
        self.epsilon = check_number("epsilon", epsilon, "LayerNormalization", low=1e-12)
        self.gamma = self.beta = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ConfigError(f"{self}: needs a feature axis, got an input of shape {format_shape(input_shape)}")
        self.gamma = self.add_weight("gamma", tf.ones([input_shape[-1]]))
        self.beta = self.add_weight("beta", tf.zeros([input_shape[-1]]))

    def call(self, x, training):
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(x, mean, variance, self.beta, self.gamma, self.epsilon)

    def get_config(self):
        return {"epsilon": self.epsilon, "name": self.name}
