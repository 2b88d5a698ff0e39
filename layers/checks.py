"""Setting checks shared by the layers: fail early, in plain words, naming the value received."""
import math
import re

from definitions.errors import ConfigError

PADDINGS = ("SAME", "VALID")
# TensorFlow keeps sizes, kernels and strides in int32 attributes.
MAX_SIZE = 2**31 - 1
# TensorFlow's rule for a scope name: a layer's name becomes the scope of its variables.
_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-/>]*")


def format_shape(shape):
    """A shape as users read it in messages: (batch, 28, 28, 1); None elsewhere reads as ?."""
    dims = list(shape)
    return "(" + ", ".join(("batch" if i == 0 else "?") if d is None else str(d) for i, d in enumerate(dims)) + ")"


def check_positive_int(name, value, layer):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{layer}: {name} must be a positive integer, got {value!r}")
    if value > MAX_SIZE:
        raise ConfigError(f"{layer}: {name} must be at most {MAX_SIZE} (TensorFlow's sizes are int32), got {value!r}")
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


def check_bool(name, value, layer):
    """True/False (or 1/0); a string such as "no" would otherwise count as True."""
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise ConfigError(f"{layer}: {name} must be True or False, got {value!r}")


def check_name(value, layer):
    if value is None or (isinstance(value, str) and _NAME.fullmatch(value)):
        return value
    raise ConfigError(f"{layer}: name must be None or letters, digits and . _ - / "
                      f"(not starting with _ - /), got {value!r}")


def check_fits(kernel, input_shape, padding, layer):
    """A VALID window larger than the image has no output: say so before TensorFlow does."""
    height, width = input_shape[1:3]
    too_big = (height is not None and kernel[0] > height) or (width is not None and kernel[1] > width)
    if padding == "VALID" and too_big:
        raise ConfigError(f"{layer}: a {kernel[0]}x{kernel[1]} window with VALID padding does not fit an input of "
                          f"shape {format_shape(input_shape)}; use a smaller window or padding SAME")


def check_number(name, value, layer, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{layer}: {name} must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{layer}: {name} must be in [{low}, {high}], got {value!r}")
    return float(value)
