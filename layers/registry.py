"""Every concrete layer by class name, for rebuilding layers from plain config dicts.

Each concrete layer class registers itself (`@register`), so this module imports no layer
module: a ResidualLayer rebuilds its inner layers through it without an import cycle. The
package's __init__ imports every layer module, so the table is complete once `layers` is.
"""
import inspect

from definitions.errors import ConfigError
from definitions.names import suggestion

LAYER_CLASSES = {}


def register(cls):
    """Class decorator: `layer_from_config` can rebuild instances of cls from their config."""
    if LAYER_CLASSES.setdefault(cls.__name__, cls) is not cls:
        raise RuntimeError(f"two layer classes are named {cls.__name__}")
    return cls


def layer_from_config(config):
    """The layer described by {"class_name": ..., "config": {...}} (layers.base.layer_to_config)."""
    if not isinstance(config, dict):
        raise ConfigError(f"a layer config must be a dict with class_name and config, got {config!r}")
    name = config.get("class_name")
    if not isinstance(name, str) or name not in LAYER_CLASSES:
        known = sorted(LAYER_CLASSES)
        raise ConfigError(f"unknown layer class {name!r}{suggestion(name, known) if isinstance(name, str) else ''}; "
                          f"known: {', '.join(known)}")
    settings = config.get("config", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{name}: config must be a dict of settings, got {settings!r}")
    parameters = inspect.signature(LAYER_CLASSES[name].__init__).parameters
    known = [key for key in parameters if key != "self"]
    for key in settings:
        if key not in known:
            raise ConfigError(f"{name}: unknown setting {key!r}{suggestion(key, known)}; settings: {', '.join(known)}")
    missing = [key for key in known if parameters[key].default is inspect.Parameter.empty and key not in settings]
    if missing:
        raise ConfigError(f"{name}: config lacks {', '.join(missing)}")
    return LAYER_CLASSES[name](**settings)
