"""Blocks: a weight layer and the non-weight layers after it, up to the next weight layer
(a weight layer that joins the block before it, ResidualLayer(joins_block=True), does not end one).

DFA-style algorithms inject an error at a block's output and let TensorFlow differentiate
inside the block, so activations, pooling and batch norm need no special cases.
"""
import tensorflow as tf

from definitions.errors import ConfigError


class Block:
    def __init__(self, index, layers):
        self.index = index
        self.layers = list(layers)

    @property
    def name(self):
        return f"block_{self.index}"

    def forward(self, x, training):
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    @property
    def weight_layer(self):
        return next((layer for layer in self.layers if layer.starts_block), None)

    @property
    def variables(self):
        return [v for layer in self.layers for v in layer.variables]

    @property
    def non_trainable_variables(self):
        return [v for layer in self.layers for v in layer.non_trainable_variables]

    @property
    def built(self):
        return all(layer.built for layer in self.layers)

    def pop_updates(self):
        return [op for layer in self.layers for op in layer.pop_updates()]

    def __str__(self):
        return " -> ".join(str(layer) for layer in self.layers)


def split_into_blocks(layers):
    """Group a sequence into blocks and give every layer a unique, readable name."""
    if not layers:
        raise ConfigError("the sequence has no layers")
    groups = [[]]
    for layer in layers:
        # Layers before the first weight layer join the first block; so does a weight layer that
        # joins the block before it (ResidualLayer(joins_block=True)), where there is one.
        if layer.starts_block and any(member.starts_block or member.joins_block for member in groups[-1]):
            groups.append([])
        groups[-1].append(layer)
    blocks = [Block(i, group) for i, group in enumerate(groups)]
    for block in blocks:
        for j, layer in enumerate(block.layers):
            if layer.name is None:
                layer.name = f"{block.name}/{j}_{type(layer).__name__}"
    return blocks


def build_blocks(blocks, input_shape):
    """Create every variable by running the blocks once on a symbolic input; returns the output.

    Algorithms that attach things to layers (FA's feedback kernels) need the layers built
    first, and running this once surfaces shape mismatches before training starts.
    """
    with tf.name_scope("shape_check"):
        probe = tf.compat.v1.placeholder(tf.float32, [None, *input_shape])
        return forward_blocks(blocks, probe, training=False, scope="probe")[-1]


def forward_blocks(blocks, x, training, scope="forward"):
    """Run the blocks in order under `<scope>/block_<i>/`; returns the list of block outputs."""
    outputs = []
    with tf.name_scope(scope):
        for block in blocks:
            with tf.name_scope(block.name):
                x = block.forward(x, training)
            outputs.append(x)
    return outputs
