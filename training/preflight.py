"""Checks that run before anything is created: the sequence builds and fits the data's shapes.

A sequence is user code (a function in definitions/sequences.py), so everything it can get
wrong is bad input: a layer setting the layer rejects, a misspelt keyword, a class where an
instance belongs, a layer that cannot take the previous layer's output, a last layer whose
output does not match the labels. Each becomes one ConfigError line naming the sequence, the
layer (its position and spec) and the shapes, so the CLI exits with code 2 and no traceback
before the run directory exists.
"""
import tensorflow as tf

from definitions.errors import ConfigError, ZppMemError
from definitions.registry import get_sequence
from layers.base import Layer


def check_sequence(config, dataset):
    """Build config.sequence on a symbolic input of the dataset's shape in a scratch graph."""
    layers = make_layers(config.sequence, dataset.num_classes)
    name = config.sequence
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)  # the initializers' ops are only built, never run
        x = tf.compat.v1.placeholder(tf.float32, [None, *dataset.input_shape])
        for position, layer in enumerate(layers, start=1):
            shape_in = x.shape.as_list()
            try:
                x = layer.forward(x, training=False)
            except ZppMemError as error:
                raise ConfigError(f"sequence {name!r}, layer {position}: {error}") from None
            except (ValueError, TypeError, tf.errors.OpError) as error:
                raise ConfigError(f"sequence {name!r}, layer {position} {layer}: cannot take an input of shape "
                                  f"{format_shape(shape_in)}: {_first_line(error)}") from None
    output = x.shape.as_list()
    if output[1:] != [dataset.num_classes]:
        raise ConfigError(f"sequence {name!r}: its last layer {layers[-1]} outputs shape {format_shape(output)}, "
                          f"but the labels of {dataset.name} have shape {format_shape([None, dataset.num_classes])} "
                          f"({dataset.num_classes} classes): end the sequence with FullyConnected(output_size)")


def make_layers(name, output_size):
    """Call the sequence function; anything it raises or returns wrongly becomes a ConfigError."""
    function = get_sequence(name)
    try:
        layers = function(output_size)
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


def format_shape(shape):
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
