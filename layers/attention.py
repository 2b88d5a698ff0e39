"""MultiHeadAttention: causal scaled dot-product self-attention on (batch, time, dim).

One weight layer holding four (dim, dim) kernels in one variable of shape (4, dim, dim): query,
key, value and output projections, in that order (and their biases, (4, dim)). Under FA each of
the four linear maps sends the error back through its own slice of a (4, dim, dim) feedback
matrix (`backward_kernel`), while the softmax and the products of scores keep their true
derivatives: the swap is FA's, applied where the layer is linear.

The attention scores are (batch, heads, time, time): the T^2 term of a transformer's memory.
The causal mask is a constant added before the softmax, so position t sees positions <= t.
"""
import math

import numpy as np
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import WeightLayer, _with_backward_kernel
from layers.checks import check_bool, check_positive_int, format_shape
from layers.registry import register

QUERY, KEY, VALUE, OUTPUT = range(4)
MASKED = -1e9  # added to the scores of future positions: exp() of it is 0 in float32


@register
class MultiHeadAttention(WeightLayer):
    def __init__(self, num_heads, causal=True, add_biases=True, name=None):
        super().__init__(add_biases=add_biases, name=name)
        self.num_heads = check_positive_int("num_heads", num_heads, "MultiHeadAttention")
        self.causal = check_bool("causal", causal, "MultiHeadAttention")

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[1] is None:
            raise ConfigError(f"{self}: expects a sequence (batch, time, features) but got shape "
                              f"{format_shape(input_shape)}")
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ConfigError(f"{self}: features {dim} of an input of shape {format_shape(input_shape)} "
                              f"do not split into {self.num_heads} heads")
        limit = math.sqrt(6.0 / (2 * dim))  # Glorot-uniform for each (dim, dim) projection
        self.kernel = self.add_weight("kernel", tf.random.uniform([4, dim, dim], -limit, limit))
        if self.add_biases:
            self.bias = self.add_weight("bias", tf.zeros([4, dim]))

    def apply_kernel(self, x, kernel):
        return tf.matmul(x, kernel)

    def _project(self, x, kernel, which):
        """x (batch * time, dim) through projection `which`; under FA its input gradient uses the
        feedback matrix's slice `which`."""
        if self.backward_kernel is None:
            y = tf.matmul(x, kernel[which])
        else:
            feedback = self.backward_kernel
            y = _with_backward_kernel(self.apply_kernel, lambda: feedback()[which])(x, kernel[which])
        return tf.nn.bias_add(y, self.bias[which]) if self.bias is not None else y

    def call(self, x, training):
        time, dim = x.shape[1], x.shape[2]
        heads, size = self.num_heads, dim // self.num_heads
        kernel = tf.convert_to_tensor(self.kernel)
        flat = tf.reshape(x, [-1, dim])

        def split(which):  # (batch, heads, time, size)
            return tf.transpose(tf.reshape(self._project(flat, kernel, which), [-1, time, heads, size]), [0, 2, 1, 3])

        query, key, value = split(QUERY), split(KEY), split(VALUE)
        scores = tf.matmul(query, key, transpose_b=True) * (1.0 / math.sqrt(size))
        if self.causal:
            scores = scores + tf.constant(causal_mask(time))
        weights = tf.nn.softmax(scores, axis=-1)
        mixed = tf.reshape(tf.transpose(tf.matmul(weights, value), [0, 2, 1, 3]), [-1, dim])
        return tf.reshape(self._project(mixed, kernel, OUTPUT), [-1, time, dim])

    def get_config(self):
        return {"num_heads": self.num_heads, "causal": self.causal, "add_biases": self.add_biases,
                "name": self.name}


def causal_mask(time):
    """(time, time) float32: 0 where a query may look (key <= query), MASKED elsewhere."""
    return np.triu(np.full((time, time), MASKED, dtype=np.float32), k=1)
