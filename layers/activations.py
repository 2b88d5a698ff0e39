"""Element-wise activations and softmax."""
import tensorflow as tf

from layers.base import Layer
from layers.checks import check_bool, check_number
from layers.registry import register


@register
class Sigmoid(Layer):
    def call(self, x, training):
        return tf.sigmoid(x)


@register
class Tanh(Layer):
    def call(self, x, training):
        return tf.tanh(x)


@register
class ReLu(Layer):
    def call(self, x, training):
        return tf.nn.relu(x)


@register
class LeakyReLu(Layer):
    def __init__(self, alpha=0.2, name=None):
        super().__init__(name=name)
        self.alpha = check_number("alpha", alpha, "LeakyReLu", low=0.0, high=1.0)

    def call(self, x, training):
        return tf.nn.leaky_relu(x, alpha=self.alpha)

    def get_config(self):
        return {"alpha": self.alpha, "name": self.name}


@register
class GELU(Layer):
    """Gaussian error linear unit, x * Phi(x) (exact, as nanoGPT's; approximate=True: GPT-2's tanh form)."""

    def __init__(self, approximate=False, name=None):
        super().__init__(name=name)
        self.approximate = check_bool("approximate", approximate, "GELU")

    def call(self, x, training):
        return tf.nn.gelu(x, approximate=self.approximate)

    def get_config(self):
        return {"approximate": self.approximate, "name": self.name}


@register
class Softmax(Layer):
    def call(self, x, training):
        return tf.nn.softmax(x)
