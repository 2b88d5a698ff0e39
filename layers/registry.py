"""Every concrete layer by class name, for rebuilding layers from plain config dicts."""
import inspect

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
    """The layer described by {"class_name": ..., "config": {...}} (layers.base.layer_to_config)."""
    if not isinstance(config, dict):
        raise ConfigError(f"a layer config must be a dict with class_name and config, got {config!r}")
    name = config.get("class_name")
    if not isinstance(name, str) or name not in LAYER_CLASSES:
        raise ConfigError(f"unknown layer class {name!r}; known: {', '.join(sorted(LAYER_CLASSES))}")
    settings = config.get("config", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{name}: config must be a dict of settings, got {settings!r}")
    parameters = inspect.signature(LAYER_CLASSES[name].__init__).parameters
    known = [key for key in parameters if key != "self"]
    for key in settings:
        if key not in known:
            from definitions.registry import suggestion
            raise ConfigError(f"{name}: unknown setting {key!r}{suggestion(key, known)}; settings: {', '.join(known)}")
    missing = [key for key in known if parameters[key].default is inspect.Parameter.empty and key not in settings]
    if missing:
        raise ConfigError(f"{name}: config lacks {', '.join(missing)}")
    return LAYER_CLASSES[name](**settings)
