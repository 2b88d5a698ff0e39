"""LOCAL's auxiliary classifiers, defined once for the run (training/algorithms/local.py) and the
memory model (planning/algorithms.py): the layers of the head that reads one block's output.

Belilovsky et al. (2019, 2020) put a small classifier after each block: pooling and dense layers
after a convolutional block, a dense layer after a dense one. Here: global average pooling and
one dense layer after an image-shaped output (height, width, channels), one dense layer after a
flat one, and one dense layer per position after a sequence's (time, features) when the labels are
per position (a transformer's next tokens). Plain data (layers.registry's configs), so planning
reads the shapes without TensorFlow.
"""
from planning.shapes import BlockShape, LayerShape

#: A head's block index is this plus its block's: heads are measured as blocks of their own
#: (training/measured_kernels.py) and must not share a block's index.
HEAD_INDEX = 1_000_000


def head_configs(output, classes, per_position=False):
    """[{'class_name', 'config'}] of the head for a block whose output has per-example shape `output`;
    ValueError (its reason) for a shape no head is defined for."""
    dense = {"class_name": "FullyConnected",
             "config": {"output_dim": int(classes), "flatten": False, "add_biases": True,
                        "weight_init": "glorot_uniform"}}
    if len(output) == 3 and not per_position:
        pool = {"class_name": "AveragePool", "config": {"kernel_size": None, "strides": None, "padding": "SAME"}}
        return [pool, dense]
    if len(output) == 1 and not per_position or len(output) == 2 and per_position:
        return [dense]
    raise ValueError(f"no auxiliary classifier for a block output of shape {tuple(output)} "
                     f"with {'per-position' if per_position else 'per-example'} labels")


def head_shape(block, classes, per_position=False):
    """The BlockShape of the head on `block` (a planning.shapes.BlockShape)."""
    layers, shape = [], tuple(block.output)
    for position, config in enumerate(head_configs(shape, classes, per_position)):
        settings = dict(config["config"])
        if config["class_name"] == "AveragePool":
            output, variables = (shape[-1],), ()
        else:
            output = shape[:-1] + (settings["output_dim"],)
            variables = ((shape[-1], settings["output_dim"]), (settings["output_dim"],))
        name = f"auxiliary/block_{block.index}/{position}_{config['class_name']}"
        layers.append(LayerShape(config["class_name"], name, shape, output, variables, (), settings))
        shape = output
    return BlockShape(HEAD_INDEX + block.index, tuple(layers))
