"""ResidualLayer: y = f(x) + shortcut(x), with a 1x1 projection when the shapes differ.

A residual layer counts as one weight layer, so under DFA it is one block: the projected error
arrives at its output and TensorFlow differentiates the inner sequence locally. With
`joins_block=True` it starts no block of its own but joins the block before it, so DFA's error
arrives after both (Launay et al.'s one feedback per transformer layer, "macro").
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.base import Layer, WeightLayer, layer_to_config
from layers.checks import check_bool, format_shape
from layers.conv import ConvolutionalLayer
from layers.dense import FullyConnected
from layers.registry import layer_from_config, register


@register
class ResidualLayer(WeightLayer):
    def __init__(self, sequence, joins_block=False, name=None):
        super().__init__(add_biases=False, name=name)
        self.joins_block = check_bool("joins_block", joins_block, "ResidualLayer")
        # An instance attribute over WeightLayer's class one: training/blocks.py reads both.
        self.starts_block = not self.joins_block
        if isinstance(sequence, (list, tuple)) and sequence and all(isinstance(item, dict) for item in sequence):
            sequence = [layer_from_config(item) for item in sequence]
        if not isinstance(sequence, (list, tuple)) or not sequence or \
                not all(isinstance(layer, Layer) for layer in sequence):
            raise ConfigError(f"ResidualLayer: sequence must be a non-empty list of layers, got {sequence!r}")
        self.sequence = list(sequence)
        self.projection = None

    def build(self, input_shape):
        for index, layer in enumerate(self.sequence):
            if layer.name is None:
                layer.name = f"{self.name or 'residual'}/{index}_{type(layer).__name__}"

    def _shortcut(self, x, output):
        if x.shape.as_list()[1:] == output.shape.as_list()[1:]:
            return x
        if self.projection is None:
            self.projection = self._make_projection(x, output)
        return self.projection.forward(x, training=True)

    def _make_projection(self, x, output):
        name = f"{self.name or 'residual'}/projection"
        if x.shape.rank == 4 and output.shape.rank == 4:
            stride_h = _ratio(x.shape[1], output.shape[1], self)
            stride_w = _ratio(x.shape[2], output.shape[2], self)
            return ConvolutionalLayer((1, 1), output.shape[-1], strides=(stride_h, stride_w), padding="SAME",
                                      name=name)
        if x.shape.rank == output.shape.rank and x.shape.rank in (2, 3) and x.shape[1:-1] == output.shape[1:-1]:
            # A flat input, or a sequence: per position.
            return FullyConnected(output.shape[-1], add_biases=False, name=name)
        raise ConfigError(f"{self}: cannot add a shortcut from shape {format_shape(x.shape.as_list())} "
                          f"to shape {format_shape(output.shape.as_list())}")

    def call(self, x, training):
        y = x
        for layer in self.sequence:
            y = layer.forward(y, training)
        return y + self._shortcut(x, y)

    @property
    def parts(self):
        return self.sequence + ([self.projection] if self.projection is not None else [])

    @property
    def variables(self):
        return [v for layer in self.parts for v in layer.variables]

    @property
    def non_trainable_variables(self):
        return [v for layer in self.parts for v in layer.non_trainable_variables]

    @property
    def kernels(self):
        """The weight layers inside, for algorithms that treat each kernel (FA)."""
        return [layer for layer in self.parts if isinstance(layer, WeightLayer)]

    def pop_updates(self):
        return [op for layer in self.parts for op in layer.pop_updates()]

    def get_config(self):
        config = {"sequence": [layer_to_config(layer) for layer in self.sequence], "name": self.name}
        if self.joins_block:  # only then: the configs (and kernel-cache keys) of other residual layers stay as they were
            config["joins_block"] = True
        return config

    def __str__(self):
        joins = ", joins_block=True" if self.joins_block else ""
        return f"ResidualLayer([{', '.join(str(layer) for layer in self.sequence)}]{joins})"


def _ratio(size_in, size_out, layer):
    """The stride of a SAME 1x1 convolution that maps size_in to size_out (ceil division)."""
    stride = -(-size_in // size_out) if size_in and size_out else 0
    if stride < 1 or -(-size_in // stride) != size_out:
        raise ConfigError(f"{layer}: cannot project spatial size {size_in} to {size_out}")
    return stride
