"""Memory sizes as people write them: 512MiB, 2GiB, 1.5GB, 300000 (bytes)."""
import math
import re

from definitions.errors import ConfigError

UNITS = {"": 1, "b": 1,
         "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*([A-Za-z]*)\s*")


def parse_size(text, what="size"):
    """Bytes (an int) from '512MiB', '2 GiB', '1.5GB', '300000' or '3e8'; ConfigError otherwise.

    KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024 (case-insensitive).
    """
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be a size such as 512MiB or 2GiB, got {text!r}")
    if isinstance(text, (int, float)):
        value, unit = float(text), ""
    else:
        match = _SIZE.fullmatch(str(text))
        if not match or match.group(3).lower() not in UNITS:
            raise ConfigError(f"{what} must be a size such as 512MiB, 2GiB, 1.5GB or a number of bytes, "
                              f"got {text!r}")
        exponent = int(match.group(2) or 0)
        if exponent > 30:
            raise ConfigError(f"{what} is too large: {text!r}")
        value = float(match.group(1)) * 10 ** exponent
        unit = match.group(3).lower()
    size = value * UNITS[unit]
    if not math.isfinite(size) or size < 1:
        raise ConfigError(f"{what} must be at least one byte, got {text!r}")
    if size >= 2**63:
        raise ConfigError(f"{what} is too large: {text!r}")
    return int(size)


def format_size(nbytes):
    """'1.50 GiB', '300.0 MiB', '12.0 KiB', '512 B'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.{2 if unit == 'GiB' else 1}f} {unit}"
    return f"{int(nbytes)} B"
