"""Every architecture builds and runs a forward pass on an input of its expected shape."""
import pytest
import tensorflow as tf

from definitions.registry import get_sequence, sequence_names

# The input each architecture is meant for (digits-sized for the small MLPs).
INPUT_SHAPES = {"liao_cifar": (32, 32, 3), "liao_cifar_bn": (32, 32, 3), "vgg_16": (32, 32, 3),
                "liao_mnist": (28, 28, 1), "liao_mnist_bn": (28, 28, 1), "experiment_mnist_fc": (28, 28, 1),
                "experiment_mnist_conv": (28, 28, 1), "long_conv": (16, 16, 3)}


def input_shape(name):
    if name.startswith("transformer"):  # a window of token ids
        return (16,)
    if name.startswith("resnet"):
        return (32, 32, 3)
    return INPUT_SHAPES.get(name, (8, 8, 1))


@pytest.mark.parametrize("name", sequence_names())
def test_sequence_builds_and_runs(name):
    layers = get_sequence(name)(7)
    tokens = name.startswith("transformer")
    x = tf.random.uniform([2, *input_shape(name)], maxval=7 if tokens else 1)
    for training in (True, False):
        y = tf.floor(x) if tokens else x
        for layer in layers:
            y = layer.forward(y, training)
        assert y.shape == ((2, 16, 7) if tokens else (2, 7))  # next-token logits at every position
    assert all(layer.built for layer in layers)


def test_readme_example_liao_cifar_bn_is_verbatim():
    layers = get_sequence("liao_cifar_bn")(10)
    assert [str(layer) for layer in layers][:4] == [
        "ConvolutionalLayer([5, 5], 32)", "MaxPool(kernel_size=[3, 3], strides=[2, 2])", "ReLu()",
        "BatchNormalization(momentum=0.9)"]


def test_resnet_depths():
    from layers import ResidualLayer
    counts = {name: sum(isinstance(layer, ResidualLayer) for layer in get_sequence(name)(10))
              for name in ("resnet_18", "resnet_34", "resnet_50", "resnet_101", "resnet_152")}
    assert counts == {"resnet_18": 8, "resnet_34": 16, "resnet_50": 16, "resnet_101": 33, "resnet_152": 50}


def test_transformer_blocks_and_shapes():
    from training.blocks import split_into_blocks
    layers = get_sequence("transformer_small")(65)
    blocks = split_into_blocks(layers)
    assert len(blocks) == 2 * 4 + 2  # embedding, 4 x (attention, mlp), head
    assert [str(layer) for layer in blocks[1].layers] == ["ResidualLayer([LayerNormalization(), MultiHeadAttention(4)])"]
    assert str(blocks[2].layers[0]) == ("ResidualLayer([LayerNormalization(), FullyConnected(512), GELU(), "
                                        "FullyConnected(128)])")
    assert [str(layer) for layer in get_sequence("transformer_tiny")(65)[:2]] == ["Embedding(65, 64)",
                                                                                   "PositionEmbedding(64)"]


def test_launay_layout_is_post_norm_with_a_block_per_layer():
    """transformer_small_launay: each residual sum followed by a layer norm, no final one; one block
    per transformer layer (its MLP joins its attention), the embedding inside the first."""
    from training.blocks import split_into_blocks
    blocks = split_into_blocks(get_sequence("transformer_small_launay")(65))
    assert len(blocks) == 4 + 1  # 4 layers, head
    kinds = [[type(layer).__name__ for layer in block.layers] for block in blocks]
    layer = ["ResidualLayer", "LayerNormalization", "ResidualLayer", "LayerNormalization"]
    assert kinds == [["Embedding", "PositionEmbedding", *layer], layer, layer, layer, ["FullyConnected"]]
    assert str(blocks[1].layers[0]) == "ResidualLayer([MultiHeadAttention(4)])"
    assert str(blocks[1].layers[2]) == "ResidualLayer([FullyConnected(512), GELU(), FullyConnected(128)], joins_block=True)"


@pytest.mark.parametrize("setting", [{"norm": "middle"}, {"blocks": "head"}])
def test_transformer_refuses_an_unknown_layout(setting):
    from definitions.errors import ConfigError
    from definitions.sequences import transformer
    with pytest.raises(ConfigError, match=f"transformer: {next(iter(setting))} must be"):
        transformer(10, **setting)
