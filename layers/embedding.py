"""Embedding and PositionEmbedding: token ids in, one learned vector per token and per position.

The dataset hands token ids over as float32 (every dataset goes through the same float32
placeholder), and Embedding casts them back to integers. Embedding is a weight layer (it starts
a block; DFA, FA and DRTP treat it as one); nothing reaches its input (token ids have no
gradient), so FA's feedback matrix is never needed for it.

Its gradient is dense, (vocab_size, dim), summed per token with unsorted_segment_sum: TensorFlow's
own is an IndexedSlices of (batch * time, dim), which the optimizers would apply sparsely,
alignment angles could not multiply, and the kernel probe could not fetch as one tensor. Dense,
the gradient is one buffer like every other weight's.
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer, WeightLayer
from layers.checks import check_positive_int, format_shape
from layers.registry import register

#: GPT-2's initial spread of token and position embeddings.
EMBEDDING_STDDEV = 0.02


@register
class Embedding(WeightLayer):
    def __init__(self, vocab_size, dim, name=None):
        super().__init__(add_biases=False, name=name)
        self.vocab_size = check_positive_int("vocab_size", vocab_size, "Embedding")
        self.dim = check_positive_int("dim", dim, "Embedding")

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ConfigError(f"{self}: expects token ids (batch, time) but got shape {format_shape(input_shape)}; "
                              f"put Embedding first, on a token dataset")
        self.kernel = self.add_weight("kernel", tf.random.normal([self.vocab_size, self.dim],
                                                                 stddev=EMBEDDING_STDDEV))

    def apply_kernel(self, x, kernel):
        return _lookup(tf.cast(x, tf.int32), kernel, self.vocab_size)

    def call(self, x, training):
        # No backward kernel: the ids have no gradient, so FA's swap has nothing to act on.
        return self.apply_kernel(x, tf.convert_to_tensor(self.kernel))

    def get_config(self):
        return {"vocab_size": self.vocab_size, "dim": self.dim, "name": self.name}


def _lookup(ids, kernel, vocab_size):
    """kernel[ids] whose gradient to the kernel is dense (see the module's docstring). The ids are
    an argument, not a captured tensor: custom_gradient would otherwise walk up from them and
    take any variable that computed them (a probe's scale) for one the function reads."""
    @tf.custom_gradient
    def lookup(table, token_ids):
        def gradient(dy):
            rows = tf.reshape(dy, [-1, table.shape[-1]])
            return tf.math.unsorted_segment_sum(rows, tf.reshape(token_ids, [-1]), vocab_size), None
        return tf.gather(table, token_ids), gradient
    return lookup(kernel, ids)


@register
class PositionEmbedding(Layer):
    """A learned vector per position, added to the input (batch, time, dim); time <= max_length."""

    def __init__(self, max_length, name=None):
        super().__init__(name=name)
        self.max_length = check_positive_int("max_length", max_length, "PositionEmbedding")
        self.table = None

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ConfigError(f"{self}: expects a sequence (batch, time, features) but got shape "
                              f"{format_shape(input_shape)}; put it after Embedding")
        if input_shape[1] is None or input_shape[1] > self.max_length:
            raise ConfigError(f"{self}: an input of shape {format_shape(input_shape)} is longer than "
                              f"max_length {self.max_length}")
        self.table = self.add_weight("table", tf.random.normal([self.max_length, input_shape[2]],
                                                               stddev=EMBEDDING_STDDEV))

    def call(self, x, training):
        return x + self.table[:x.shape[1]]

    def get_config(self):
        return {"max_length": self.max_length, "name": self.name}
