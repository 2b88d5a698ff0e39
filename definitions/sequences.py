"""Architectures as layer sequences.

Each public function of this module takes `output_size` and returns a list of layers; its name
is the `sequence` of a network dict. To add an architecture, write such a function here, or in
a file of your own (`--definitions`, definitions/user_files.py) without editing the package.
"""
from definitions.errors import ConfigError
from layers import (GELU, AveragePool, BatchNormalization, ConvolutionalLayer, Embedding, FullyConnected,
                    LayerNormalization, MaxPool, MultiHeadAttention, PositionEmbedding, ReLu, ResidualLayer, Sigmoid,
                    Tanh)


def fcReLu(output_size):
    return [FullyConnected(256, flatten=True), ReLu(),
            FullyConnected(256), ReLu(),
            FullyConnected(output_size)]


def fcSigmoid(output_size):
    return [FullyConnected(256, flatten=True), Sigmoid(),
            FullyConnected(256), Sigmoid(),
            FullyConnected(output_size)]


def fcTanh(output_size):
    """An MLP with bounded activations: every algorithm, DRTP included, trains it."""
    return [FullyConnected(256, flatten=True), Tanh(),
            FullyConnected(256), Tanh(),
            FullyConnected(output_size)]


def long_fc(output_size, blocks=20, width=500):
    """A deep MLP for memory experiments: every block's activations have the same size."""
    sequence = [FullyConnected(width, flatten=True), Sigmoid()]
    for _ in range(blocks - 2):
        sequence += [FullyConnected(width), Sigmoid()]
    return sequence + [FullyConnected(output_size)]


def long_fc2(output_size, blocks=20, width=500):
    """long_fc with ReLu activations."""
    sequence = [FullyConnected(width, flatten=True), ReLu()]
    for _ in range(blocks - 2):
        sequence += [FullyConnected(width), ReLu()]
    return sequence + [FullyConnected(output_size)]


def long_conv(output_size, blocks=20, filters=32):
    """A deep stack of same-size convolutions for memory experiments."""
    sequence = []
    for _ in range(blocks - 1):
        sequence += [ConvolutionalLayer((3, 3), filters, strides=[1, 1], padding="SAME"), ReLu()]
    return sequence + [FullyConnected(output_size, flatten=True)]


def liao_mnist(output_size):
    return [ConvolutionalLayer((5, 5), 20, strides=[1, 1], padding="SAME"),
            MaxPool([3, 3], [2, 2], "SAME"), ReLu(),
            ConvolutionalLayer((5, 5), 50, strides=[1, 1], padding="SAME"),
            MaxPool([3, 3], [2, 2], "SAME"), ReLu(),
            FullyConnected(500, flatten=True), ReLu(),
            FullyConnected(output_size)]


def liao_mnist_bn(output_size):
    return [ConvolutionalLayer((5, 5), 20, strides=[1, 1], padding="SAME"),
            MaxPool([3, 3], [2, 2], "SAME"), ReLu(), BatchNormalization(momentum=0.9),
            ConvolutionalLayer((5, 5), 50, strides=[1, 1], padding="SAME"),
            MaxPool([3, 3], [2, 2], "SAME"), ReLu(), BatchNormalization(momentum=0.9),
            FullyConnected(500, flatten=True), ReLu(), BatchNormalization(momentum=0.9),
            FullyConnected(output_size)]


def liao_cifar(output_size):
    return [ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=32, strides=[1, 1], padding="SAME"),
            MaxPool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"), ReLu(),
            ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=64, strides=[1, 1], padding="SAME"),
            AveragePool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"), ReLu(),
            ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=64, strides=[1, 1], padding="SAME"),
            AveragePool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"), ReLu(),
            FullyConnected(128, flatten=True), ReLu(),
            FullyConnected(output_size)]


def liao_cifar_bn(output_size):
    # Verbatim from the original README.
    return [ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=32, strides=[1, 1],
                               padding="SAME"),
            MaxPool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"),
            ReLu(),
            BatchNormalization(momentum=0.9),
            ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=64, strides=[1, 1],
                               padding="SAME"),
            AveragePool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"),
            ReLu(),
            BatchNormalization(momentum=0.9),
            ConvolutionalLayer(filter_dim=(5, 5), num_of_filters=64, strides=[1, 1],
                               padding="SAME"),
            AveragePool(kernel_size=[3, 3], strides=[2, 2], padding="SAME"),
            ReLu(),
            BatchNormalization(momentum=0.9),
            FullyConnected(128, flatten=True),
            ReLu(),
            BatchNormalization(momentum=0.9),
            FullyConnected(output_size)]


def experiment_mnist_fc(output_size):
    return [FullyConnected(800, flatten=True), ReLu(),
            FullyConnected(800), ReLu(),
            FullyConnected(800), ReLu(),
            FullyConnected(output_size)]


def experiment_mnist_conv(output_size):
    return [ConvolutionalLayer((5, 5), 32, strides=[1, 1], padding="SAME"),
            MaxPool([2, 2], [2, 2], "SAME"), ReLu(),
            ConvolutionalLayer((5, 5), 64, strides=[1, 1], padding="SAME"),
            MaxPool([2, 2], [2, 2], "SAME"), ReLu(),
            FullyConnected(512, flatten=True), ReLu(),
            FullyConnected(output_size)]


def vgg_16(output_size):
    """VGG-16 for 32x32 inputs: 13 convolutions (batch-normalised) and 3 dense layers."""
    sequence = []
    for stage in ([64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]):
        for filters in stage:
            sequence += [ConvolutionalLayer((3, 3), filters, strides=[1, 1], padding="SAME"), ReLu(),
                         BatchNormalization(momentum=0.9)]
        sequence.append(MaxPool([2, 2], [2, 2], "SAME"))
    return sequence + [FullyConnected(512, flatten=True), ReLu(),
                       FullyConnected(512), ReLu(),
                       FullyConnected(output_size)]


def _basic_block(filters, stride):
    return [ResidualLayer([ConvolutionalLayer((3, 3), filters, strides=[stride, stride], padding="SAME"),
                           BatchNormalization(), ReLu(),
                           ConvolutionalLayer((3, 3), filters, strides=[1, 1], padding="SAME"),
                           BatchNormalization()]),
            ReLu()]


def _bottleneck_block(filters, stride):
    return [ResidualLayer([ConvolutionalLayer((1, 1), filters, strides=[1, 1], padding="SAME"),
                           BatchNormalization(), ReLu(),
                           ConvolutionalLayer((3, 3), filters, strides=[stride, stride], padding="SAME"),
                           BatchNormalization(), ReLu(),
                           ConvolutionalLayer((1, 1), 4 * filters, strides=[1, 1], padding="SAME"),
                           BatchNormalization()]),
            ReLu()]


def _resnet(output_size, block, repeats):
    """ResNet for 32x32 inputs (He et al. 2016): a 3x3 stem, four stages, global pooling."""
    sequence = [ConvolutionalLayer((3, 3), 64, strides=[1, 1], padding="SAME"), BatchNormalization(), ReLu()]
    for stage, (filters, count) in enumerate(zip((64, 128, 256, 512), repeats)):
        for index in range(count):
            stride = 2 if stage > 0 and index == 0 else 1
            sequence += block(filters, stride)
    return sequence + [AveragePool(kernel_size=None), FullyConnected(output_size)]


def resnet_18(output_size):
    return _resnet(output_size, _basic_block, (2, 2, 2, 2))


def resnet_34(output_size):
    return _resnet(output_size, _basic_block, (3, 4, 6, 3))


def resnet_50(output_size):
    return _resnet(output_size, _bottleneck_block, (3, 4, 6, 3))


def resnet_101(output_size):
    return _resnet(output_size, _bottleneck_block, (3, 4, 23, 3))


def resnet_152(output_size):
    return _resnet(output_size, _bottleneck_block, (3, 8, 36, 3))


def transformer(output_size, layers=4, dim=128, heads=4, context=64, norm="pre", blocks="sublayer",
                embedding_block=True):
    """A decoder-only transformer on token ids: output_size is the vocabulary. Each of the
    `layers` is two residual sub-layers, attention then an MLP of 4 * dim, and a per-position
    head gives the next token's logits. `context` is the longest window it takes (the dataset's
    context_length).

    norm="pre" (GPT-2's layout): a layer norm opens each residual branch and one closes the
    stack. norm="post" (the original transformer's): a layer norm follows each residual sum.
    What DFA-style rules send an error to: blocks="sublayer", each sub-layer; blocks="layer", each
    transformer layer, its MLP joining its attention (Launay et al.'s "macro" feedback), the
    error then backpropagated inside the layer. embedding_block=False: the embedding has no block
    of its own but joins the first layer's, so it learns through that layer."""
    if norm not in ("pre", "post"):
        raise ConfigError(f"transformer: norm must be 'pre' or 'post', got {norm!r}")
    if blocks not in ("sublayer", "layer"):
        raise ConfigError(f"transformer: blocks must be 'sublayer' or 'layer', got {blocks!r}")
    sequence = [Embedding(output_size, dim), PositionEmbedding(context)]
    for index in range(layers):
        joins_attention, joins_mlp = index == 0 and not embedding_block, blocks == "layer"
        attention, mlp = [MultiHeadAttention(heads)], [FullyConnected(4 * dim), GELU(), FullyConnected(dim)]
        if norm == "pre":
            sequence += [ResidualLayer([LayerNormalization(), *attention], joins_block=joins_attention),
                         ResidualLayer([LayerNormalization(), *mlp], joins_block=joins_mlp)]
        else:
            sequence += [ResidualLayer(attention, joins_block=joins_attention), LayerNormalization(),
                         ResidualLayer(mlp, joins_block=joins_mlp), LayerNormalization()]
    return sequence + ([LayerNormalization()] if norm == "pre" else []) + [FullyConnected(output_size)]


def transformer_tiny(output_size):
    """2 layers of dim 64, 4 heads, context 64: small enough for tests and for a laptop."""
    return transformer(output_size, layers=2, dim=64, heads=4, context=64)


def transformer_small(output_size):
    """4 layers of dim 128, 4 heads, context 64: nanoGPT's CPU "baby GPT" shape."""
    return transformer(output_size, layers=4, dim=128, heads=4, context=64)


def transformer_tiny_launay(output_size):
    """transformer_tiny in Launay et al.'s layout for DFA: post-norm, one block per layer."""
    return transformer(output_size, layers=2, dim=64, heads=4, context=64, norm="post", blocks="layer",
                       embedding_block=False)


def transformer_small_launay(output_size):
    """transformer_small in Launay et al.'s layout for DFA: post-norm, one block per layer, the
    embedding inside the first (DFA within a third of a nat of BP on shakespeare, README)."""
    return transformer(output_size, layers=4, dim=128, heads=4, context=64, norm="post", blocks="layer",
                       embedding_block=False)
