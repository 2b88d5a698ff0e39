"""The sequence, built once in the run's graph, with everything it can get wrong as bad input.

A sequence is user code (a function in definitions/sequences.py), so everything it can get
wrong is bad input: a layer setting the layer rejects, a misspelt keyword, a class where an
instance belongs, a layer that cannot take the previous layer's output, a last layer whose
output does not match the labels. Each becomes one ConfigError line naming the sequence, the
layer (its position and spec) and the shapes. The trainer builds its graph before the run
directory exists, so the CLI exits with code 2 and no traceback before anything is written.

BPCKPT's `checkpoint_plan` is read against the sequence's blocks here too (check_checkpoint_plan,
before the data and the graph; and for `experiment plan`, whatever the config's type).

The pass that checks the shapes is the one that creates the variables (algorithms such as FA
need built layers): a run builds its sequence once, not once to check and once to train
(ARCHITECTURE.md, "One run, start to finish").
"""
import tensorflow as tf
from tensorflow.python.eager import context

from definitions.errors import ConfigError, ZppMemError
from definitions.registry import get_sequence
from layers.base import Layer
from layers.checks import format_shape
from planning.checkpoint_plan import plan_for
from training.blocks import split_into_blocks
from training.keras_convert import convert_if_keras


def build_sequence(config, dataset):
    """The blocks of config.sequence, built in the default graph on a symbolic input of the dataset's shape."""
    name = config.sequence
    blocks = split_into_blocks(make_layers(name, dataset.num_classes))
    position = 0
    # The scopes of training.blocks.build_blocks: the probe's ops are built, never run.
    with tf.name_scope("shape_check"):
        x = tf.compat.v1.placeholder(tf.float32, [None, *dataset.input_shape])
        with tf.name_scope("probe"):
            for block in blocks:
                with tf.name_scope(block.name):
                    for layer in block.layers:
                        position += 1
                        x = _forward(layer, x, name, position)
    output = x.shape.as_list()
    labels = [*getattr(dataset, "label_shape", ()), dataset.num_classes]  # per position for token datasets
    if output[1:] != labels:
        raise ConfigError(f"sequence {name!r}: its last layer {blocks[-1].layers[-1]} outputs shape "
                          f"{format_shape(output)}, but the labels of {dataset.name} have shape "
                          f"{format_shape([None, *labels])} ({dataset.num_classes} classes): "
                          f"end the sequence with FullyConnected(output_size)")
    return blocks


def check_checkpoint_plan(config, num_classes):
    """Before the graph is built: checkpoint_plan is BPCKPT's, and covers the sequence's blocks.

    A key that the type does not read must not be silently ignored. The blocks are counted on
    the sequence's layers (a weight layer starts a block), which are made but not built: the
    run builds its sequence once, later, in its graph.
    """
    if config.checkpoint_plan is None:
        return
    if config.type != "BPCKPT":
        raise ConfigError(f"config key 'checkpoint_plan' is read by type BPCKPT only, and the type is "
                          f"{config.type!r}: set type BPCKPT, or leave checkpoint_plan null")
    checkpoint_plan(config, len(split_into_blocks(make_layers(config.sequence, num_classes))))


def checkpoint_plan(config, num_blocks):
    """BPCKPT's plan (planning.checkpoint_plan.Segment) for a sequence of `num_blocks` blocks:
    config.checkpoint_plan read, else segment_size's uniform plan."""
    try:
        return plan_for(num_blocks, config.checkpoint_plan, config.segment_size)
    except ConfigError as error:
        raise ConfigError(f"config key 'checkpoint_plan' (sequence {config.sequence!r}, {num_blocks} blocks): "
                          f"{error}") from None


def make_layers(name, output_size):
    """Call the sequence function; anything it raises or returns wrongly becomes a ConfigError."""
    function = get_sequence(name)
    try:
        # Eagerly, outside the run's graph: a Keras model made here must hold its weights as values
        # to read (ARCHITECTURE.md, "Keras models are made eagerly"); our layers only store settings.
        with context.eager_mode():
            layers = convert_if_keras(function(output_size))  # a Keras Sequential: its weights
    except ZppMemError as error:
        raise ConfigError(f"sequence {name!r}: {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"sequence {name!r} cannot be built: {type(error).__name__}: {_first_line(error)}") from None
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ConfigError(f"sequence {name!r} must return a non-empty list of layers, got {layers!r}")
    for position, item in enumerate(layers, start=1):
        if isinstance(item, type) and issubclass(item, Layer):
            raise ConfigError(f"sequence {name!r}, layer {position} is the class {item.__name__}, not a layer: "
                              f"write {item.__name__}(...)")
        if not isinstance(item, Layer):
            raise ConfigError(f"sequence {name!r}, layer {position} is {item!r}, not a layer")
    return list(layers)


def _forward(layer, x, name, position):
    shape_in = x.shape.as_list()
    try:
        return layer.forward(x, training=False)
    except ZppMemError as error:
        raise ConfigError(f"sequence {name!r}, layer {position}: {error}") from None
    except (ValueError, TypeError, tf.errors.OpError) as error:
        raise ConfigError(f"sequence {name!r}, layer {position} {layer}: cannot take an input of shape "
                          f"{format_shape(shape_in)}: {_first_line(error)}") from None


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
