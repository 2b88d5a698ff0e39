"""FullyConnected: y = x W (+ b), optionally flattening a spatial input first.

On a sequence (batch, time, features) it acts per position: the input is read as
(batch * time, features), one 2-D matmul, then shaped back. (A broadcast batch matmul would do
the same forward, but its kernel gradient is a (batch, features, output) tensor summed over the
batch afterwards.)"""
import numpy as np
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import WeightLayer
from layers.checks import check_bool, check_positive_int, format_shape
from layers.initializers import check_initializer, initial_kernel
from layers.registry import register


@register
class FullyConnected(WeightLayer):
    def __init__(self, output_dim, flatten=False, add_biases=True, weight_init="glorot_uniform", name=None):
        super().__init__(add_biases=add_biases, name=name)
        self.output_dim = check_positive_int("output_dim", output_dim, "FullyConnected")
        self.flatten = check_bool("flatten", flatten, "FullyConnected")
        self.weight_init = check_initializer(weight_init, "FullyConnected")

    def prepare_input(self, x):
        if self.flatten and x.shape.rank != 2:
            return tf.reshape(x, [-1, int(np.prod(x.shape.as_list()[1:]))])
        return x

    def build(self, input_shape):
        if len(input_shape) not in (2, 3) and not self.flatten:
            raise ConfigError(
                f"{self}: expects a flat input (batch, features) or a sequence (batch, time, features) but got "
                f"shape {format_shape(input_shape)}; use flatten=True after convolutional layers")
        fan_in = int(np.prod(input_shape[1:])) if self.flatten else int(input_shape[-1])
        self.kernel = self.add_weight("kernel", initial_kernel([fan_in, self.output_dim], fan_in,
                                                               self.output_dim, self.weight_init))
        if self.add_biases:
            self.bias = self.add_weight("bias", tf.zeros([self.output_dim]))

    def call(self, x, training):
        if x.shape.rank == 3 and not self.flatten:
            time = x.shape[1]
            y = super().call(tf.reshape(x, [-1, x.shape[2]]), training)
            return tf.reshape(y, [-1, time, self.output_dim])
        return super().call(x, training)

    def apply_kernel(self, x, kernel):
        return tf.matmul(x, kernel)

    def get_config(self):
        return {"output_dim": self.output_dim, "flatten": self.flatten, "add_biases": self.add_biases,
                "weight_init": self.weight_init, "name": self.name}
