"""Setting checks shared by the layers: fail early, in plain words, naming the value received."""
from definitions.errors import ConfigError

PADDINGS = ("SAME", "VALID")


def check_positive_int(name, value, layer):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return value


def check_pair(name, value, layer, allow_none=False):
    """A 2-element spatial size such as a kernel or a stride: (h, w) or a single int."""
    if value is None and allow_none:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{layer}: {name} must be 2 positive integers (height, width), got {value!r}")
    for item in value:
        check_positive_int(name, item, layer)
    return tuple(value)


def check_padding(value, layer):
    if not isinstance(value, str) or value.upper() not in PADDINGS:
        raise ConfigError(f"{layer}: padding must be one of {', '.join(PADDINGS)}, got {value!r}")
    return value.upper()


def check_number(name, value, layer, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{layer}: {name} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{layer}: {name} must be in [{low}, {high}], got {value!r}")
    return float(value)
