from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu, ResidualLayer
from training.blocks import split_into_blocks


def test_blocks_start_at_weight_layers_and_names_are_unique():
    layers = [ReLu(), ConvolutionalLayer((3, 3), 4), MaxPool([2, 2], [2, 2], "SAME"), ReLu(), BatchNormalization(),
              ResidualLayer([ConvolutionalLayer((3, 3), 4)]), ReLu(), FullyConnected(10, flatten=True)]
    blocks = split_into_blocks(layers)
    assert [len(block.layers) for block in blocks] == [5, 2, 1]
    assert blocks[1].weight_layer is layers[5]
    names = [layer.name for layer in layers]
    assert len(set(names)) == len(names) and names[2] == "block_0/2_MaxPool"
