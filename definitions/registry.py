"""Look-ups by name: sequences, networks, datasets. Unknown names suggest the closest one."""
import difflib
import inspect

from definitions import networks, sequences
from definitions.errors import ConfigError


def sequence_names():
    return sorted(name for name, fn in vars(sequences).items()
                  if inspect.isfunction(fn) and fn.__module__ == sequences.__name__ and not name.startswith("_"))


def network_names():
    return sorted(name for name, value in vars(networks).items()
                  if isinstance(value, dict) and not name.startswith("_"))


def get_sequence(name):
    return getattr(sequences, check_name("sequence", name, sequence_names()))


def get_network(name):
    return dict(getattr(networks, check_name("network", name, network_names())))


def check_name(kind, name, known):
    if name not in known:
        raise ConfigError(f"unknown {kind} {name!r}{suggestion(name, known)}; known: {', '.join(known)}")
    return name


def suggestion(name, known):
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
