"""Reading grids from the command line (`--grid key=v1,v2`) and from small TOML or JSON files.

A grid file holds the axes and, optionally, the command prefix:

    prefix = "python experiment.py --name default_network"
    [grid]
    type = ["BP", "DFA"]
    learning_rate = [0.01, 0.05]
    epochs = 1

JSON is the same shape: {"prefix": "...", "grid": {"type": ["BP", "DFA"], ...}}.
TOML needs Python 3.11+ (tomllib); JSON works everywhere. Unknown keys fail loudly.
"""
import json
import os

from tuner.grid import sgen

FILE_KEYS = ("prefix", "grid")


def parse_grid_option(text):
    """`"type=BP,DFA"` -> Param("type", ("BP", "DFA")); ValueError with the reason otherwise.

    A comma inside brackets does not split: `synthetic_shape=[8,8,1],[16]` is two values.
    """
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"--grid {text!r}: expected KEY=V1,V2,... (for example type=BP,DFA)")
    parts = [value.strip() for value in _split_outside_brackets(values)]
    if any(not part for part in parts):
        raise ValueError(f"--grid {text!r}: empty value (check for a stray comma)")
    return sgen(name, parts)


def _split_outside_brackets(text):
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return parts + [text[start:]]


def load_grid_file(path):
    """Return (prefix or None, [Param, ...]) from a .toml or .json grid file."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ValueError(f"cannot read grid file {path}: {error.strerror}") from None
    if extension == ".json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"grid file {path} is not valid JSON: {error}") from None
    elif extension == ".toml":
        data = _load_toml(path, raw)
    else:
        raise ValueError(f"grid file {path}: use a .toml or .json file")
    return grid_from_dict(data, source=path)


def _load_toml(path, raw):
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        raise ValueError(f"grid file {path}: TOML grid files need Python 3.11+; use a .json file") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"grid file {path} is not valid TOML: {error}") from None


def grid_from_dict(data, source="grid"):
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a table with a 'grid' section")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(FILE_KEYS)})")
    prefix = data.get("prefix")
    if prefix is not None and not (isinstance(prefix, str) or
                                   (isinstance(prefix, list) and all(isinstance(p, str) for p in prefix))):
        raise ValueError(f"{source}: 'prefix' must be a string or a list of strings")
    grid = data.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"{source}: needs a non-empty 'grid' table of parameter = [values]")
    params = []
    for name, values in grid.items():
        try:
            params.append(sgen(name, values))
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
    return prefix, params


def merge_params(file_params, option_params):
    """--grid options replace file axes of the same name and add the others at the end."""
    by_name = {param.name: param for param in option_params}
    if len(by_name) != len(option_params):
        names = [param.name for param in option_params]
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"--grid given twice for {', '.join(repeated)}")
    merged = [by_name.pop(param.name, param) for param in file_params]
    return merged + [param for param in option_params if param.name in by_name]
