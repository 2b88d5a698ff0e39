"""Look-ups by name: sequences and networks. Unknown names suggest the closest one."""
import inspect

from definitions import networks, sequences
from definitions.names import check_name


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

