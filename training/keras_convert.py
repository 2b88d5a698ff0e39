"""A Keras `Sequential` model as the project's layers, with its current weights.

A sequence function may return a Keras 3 `Sequential` instead of a list of layers: each Keras
layer becomes the project's layer that computes the same function (an activation given in a
layer, `Dense(10, activation="relu")`, becomes a layer of its own after it), and its weights
become the new layer's initial values (`Layer.pretrained`), so a pretrained model is trained,
traced and planned by every type as a shipped sequence is. An unsupported layer or setting is
one ConfigError naming it and listing what is supported.

Keras is imported by the caller (the sequence function); this module only reads the layers'
class names, configs and weights.
"""
import numpy as np

from definitions.errors import ConfigError
from layers import (AveragePool, BatchNormalization, ConvolutionalLayer, FullyConnected, LeakyReLu, MaxPool,
                    ReLu, Sigmoid, Softmax, Tanh)

SUPPORTED = ("Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
             "BatchNormalization", "Flatten", "ReLU", "LeakyReLU", "Activation")
ACTIVATIONS = {"relu": ReLu, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax, "leaky_relu": LeakyReLu}


def is_keras_sequential(value):
    return any(cls.__name__ == "Sequential" and cls.__module__.startswith("keras")
               for cls in type(value).__mro__)


def convert_if_keras(value):
    """value as is, unless it is a Keras Sequential: then its layers as the project's."""
    return from_keras(value) if is_keras_sequential(value) else value


def from_keras(model):
    layers, flatten_next = [], False
    for position, keras_layer in enumerate(model.layers, start=1):
        kind = type(keras_layer).__name__
        config = keras_layer.get_config()
        where = f"Keras layer {position} {kind} {keras_layer.name!r}"
        if kind not in _CONVERTERS:
            raise ConfigError(f"{where} cannot be converted: the supported Keras layers are "
                              f"{', '.join(SUPPORTED)} (and activations given in a layer: "
                              f"{', '.join(sorted(ACTIVATIONS))}, linear)")
        if kind == "Flatten":
            flatten_next = True
            continue
        converted = _CONVERTERS[kind](keras_layer, config, where)
        if flatten_next:
            if not isinstance(converted[0], FullyConnected):
                raise ConfigError(f"{where}: a Flatten must be followed by a Dense layer, whose flatten=True "
                                  "does the flattening here")
            converted[0].flatten, flatten_next = True, False
        layers += converted
    if flatten_next:
        raise ConfigError("the Keras model ends with a Flatten; end it with Dense(classes)")
    if not layers:
        raise ConfigError("the Keras model has no layers")
    return layers


def _weights(keras_layer, names):
    """{our weight name: array} from the Keras layer's weights, in Keras' order."""
    arrays = [np.asarray(weight.numpy()) for weight in keras_layer.weights]
    if len(arrays) != len(names):
        raise ConfigError(f"Keras layer {keras_layer.name!r} has {len(arrays)} weights, expected {len(names)} "
                          f"({', '.join(names)}): is the model built (keras.Input first)?")
    return dict(zip(names, arrays))


def _with_weights(layer, keras_layer, names):
    layer.pretrained = _weights(keras_layer, names) if keras_layer.built else None
    return layer


def _activation(name, where):
    if name in (None, "linear"):
        return []
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ConfigError(f"{where}: activation {name!r} is not supported: use one of "
                          f"{', '.join(sorted(ACTIVATIONS))} or linear")
    return [ACTIVATIONS[name]()]


def _require(config, where, **settings):
    for key, allowed in settings.items():
        if config.get(key, allowed) != allowed and not (isinstance(allowed, tuple) and config.get(key) in allowed):
            raise ConfigError(f"{where}: {key}={config.get(key)!r} is not supported (only {allowed!r})")


def _dense(keras_layer, config, where):
    layer = FullyConnected(config["units"], add_biases=config["use_bias"])
    names = ["kernel", "bias"] if config["use_bias"] else ["kernel"]
    return [_with_weights(layer, keras_layer, names), *_activation(config.get("activation"), where)]


def _conv(keras_layer, config, where):
    _require(config, where, data_format="channels_last", dilation_rate=(1, 1), groups=1)
    layer = ConvolutionalLayer(tuple(config["kernel_size"]), config["filters"], strides=tuple(config["strides"]),
                               padding=config["padding"].upper(), add_biases=config["use_bias"])
    names = ["kernel", "bias"] if config["use_bias"] else ["kernel"]
    return [_with_weights(layer, keras_layer, names), *_activation(config.get("activation"), where)]


def _pool(cls):
    def convert(keras_layer, config, where):
        _require(config, where, data_format="channels_last")
        strides = config.get("strides") or config["pool_size"]
        return [cls(tuple(config["pool_size"]), tuple(strides), config["padding"].upper())]
    return convert


def _global_average(keras_layer, config, where):
    _require(config, where, data_format="channels_last", keepdims=False)
    return [AveragePool()]


def _batch_norm(keras_layer, config, where):
    _require(config, where, center=True, scale=True)
    axis = config["axis"]
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    layer = BatchNormalization(axis=axis, momentum=config["momentum"], epsilon=config["epsilon"])
    return [_with_weights(layer, keras_layer, ["gamma", "beta", "moving_mean", "moving_variance"])]


def _relu(keras_layer, config, where):
    _require(config, where, max_value=None, negative_slope=0.0, threshold=0.0)
    return [ReLu()]


def _leaky_relu(keras_layer, config, where):
    return [LeakyReLu(alpha=config.get("negative_slope", config.get("alpha")))]


def _activation_layer(keras_layer, config, where):
    return _activation(config["activation"], where)


_CONVERTERS = {
    "Dense": _dense, "Conv2D": _conv, "MaxPooling2D": _pool(MaxPool), "AveragePooling2D": _pool(AveragePool),
    "GlobalAveragePooling2D": _global_average, "BatchNormalization": _batch_norm,
    "Flatten": None,  # from_keras sets flatten=True on the Dense after it
    "ReLU": _relu, "LeakyReLU": _leaky_relu, "Activation": _activation_layer,
}
