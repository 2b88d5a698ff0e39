"""Every concrete layer by class name, for rebuilding layers from plain config dicts."""
from definitions.errors import ConfigError
from layers.activations import LeakyReLu, ReLu, Sigmoid, Softmax, Tanh
from layers.batch_norm import BatchNormalization
from layers.conv import ConvolutionalLayer
from layers.dense import FullyConnected
from layers.pooling import AveragePool, MaxPool
from layers.residual import ResidualLayer

LAYER_CLASSES = {cls.__name__: cls for cls in (
    FullyConnected, ConvolutionalLayer, MaxPool, AveragePool, BatchNormalization,
    Sigmoid, Tanh, ReLu, LeakyReLu, Softmax, ResidualLayer)}


def layer_from_config(config):
    name = config.get("class_name")
    if name not in LAYER_CLASSES:
        raise ConfigError(f"unknown layer class {name!r}; known: {', '.join(sorted(LAYER_CLASSES))}")
    return LAYER_CLASSES[name](**config.get("config", {}))
