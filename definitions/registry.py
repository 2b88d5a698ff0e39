"""Look-ups by name: sequences and networks. Unknown names suggest the closest one.

The shipped ones live in definitions/sequences.py and definitions/networks.py. A user adds
their own without editing the package: files loaded by `load_definitions` (`--definitions`,
the config key `definitions`) and, for a sequence, `module:function`, a function of any
importable module. A user's name may not shadow a shipped one or another file's.
"""
import copy
import importlib
import importlib.util

from definitions import networks, sequences, user_files
from definitions.errors import ConfigError
from definitions.names import check_name, suggestion

SHIPPED = "shipped"
_SHIPPED = {"sequence": user_files.sequences_of(sequences), "network": user_files.networks_of(networks)}


class _Loaded:
    """The users' files loaded in this process, and which of them defines each name."""

    def __init__(self):
        self.files = {}  # path -> UserFile, in load order
        self.owners = {"sequence": {}, "network": {}}  # kind -> name -> UserFile


_loaded = _Loaded()


def sequence_names():
    return sorted([*_SHIPPED["sequence"], *_loaded.owners["sequence"]])


def network_names():
    return sorted([*_SHIPPED["network"], *_loaded.owners["network"]])


def get_sequence(name):
    """The function of a sequence name or of `module:function`."""
    if isinstance(name, str) and ":" in name:
        return _import_sequence(name)
    return _get("sequence", check_name("sequence", name, sequence_names()))


def get_network(name):
    return dict(_get("network", check_name("network", name, network_names())))


def origins(kind):
    """[(origin, [names])] for `kind` "sequence" or "network": shipped first, then each file."""
    by_origin = {SHIPPED: sorted(_SHIPPED[kind])}
    for name, owner in sorted(_loaded.owners[kind].items()):
        by_origin.setdefault(owner.path, []).append(name)
    if kind == "sequence":  # `module:function` names, as the known networks use them
        for network in sorted(network_names()):
            sequence = _get("network", network).get("sequence")
            if isinstance(sequence, str) and ":" in sequence:
                names = by_origin.setdefault("module " + sequence.partition(":")[0], [])
                names += [] if sequence in names else [sequence]
    return list(by_origin.items())


def load_definitions(paths, check_network):
    """Load the files at `paths` (absolute) not loaded yet; `check_network(dict)` validates each network.

    All or nothing: a file that fails to run, a name already taken or a network that fails its
    check is a ConfigError naming the file and the line, and nothing of these files stays loaded.
    """
    new = [path for path in dict.fromkeys(paths) if path not in _loaded.files]
    if not new:
        return
    saved = (dict(_loaded.files), {kind: dict(owners) for kind, owners in _loaded.owners.items()})
    shipped = copy.deepcopy(_SHIPPED["network"])
    try:
        for path in new:
            loaded = user_files.load(path)
            _refuse_changes_to_shipped_networks(shipped, loaded)
            _add(loaded)
        for path in new:
            loaded = _loaded.files[path]
            for name, network in user_files.networks_of(loaded.module, _SHIPPED["network"].values()).items():
                _check(loaded, name, network, check_network)
    except BaseException:
        _loaded.files, _loaded.owners = saved
        raise


def _get(kind, name):
    shipped = _SHIPPED[kind]
    if name in shipped:
        return shipped[name]
    owner = _loaded.owners[kind][name]
    found = user_files.sequences_of(owner.module) if kind == "sequence" else vars(owner.module)
    return found[name]


def _add(loaded):
    found = {"sequence": user_files.sequences_of(loaded.module),
             "network": user_files.networks_of(loaded.module, _SHIPPED["network"].values())}
    for kind, names in found.items():
        for name in names:
            if name in _SHIPPED[kind]:
                raise ConfigError(f"{loaded.where(name)}: {kind} {name!r} is the name of a shipped {kind}: "
                                  f"give yours another name")
            other = _loaded.owners[kind].get(name)
            if other is not None:
                raise ConfigError(f"{loaded.where(name)}: {kind} {name!r} is defined in {other.path} too: "
                                  f"give one of them another name")
    _loaded.files[loaded.path] = loaded
    for kind, names in found.items():
        _loaded.owners[kind].update(dict.fromkeys(names, loaded))


def _refuse_changes_to_shipped_networks(before, loaded):
    """A file that changes a shipped dict in place (`mine = default_network; mine.update(...)`)
    would change the shipped network under its own name: refused, and the dict put back."""
    for name, network in _SHIPPED["network"].items():
        if network != before[name]:
            network.clear()
            network.update(copy.deepcopy(before[name]))
            raise ConfigError(f"{loaded.path}: changes the shipped network {name!r} in place: "
                              f"start from a copy, dict({name})")


def _check(loaded, name, network, check_network):
    """The network validated as the shipped ones are; an error points at the key's line."""
    try:
        check_network(dict(network, name=name))
    except ConfigError as error:
        bad_key = next((key for key, value in network.items() if not _passes(check_network, {key: value})), None)
        raise ConfigError(f"{loaded.where(name, bad_key)}: network {name!r}: {error}") from None


def _passes(check_network, network):
    try:
        check_network(network)
    except ConfigError:
        return False
    return True


def _import_sequence(path):
    """`package.module:function` imported; anything wrong is one ConfigError."""
    module_name, _, function_name = path.partition(":")
    if not all(part.isidentifier() for part in module_name.split(".")) or not function_name.isidentifier():
        raise ConfigError(f"unknown sequence {path!r}: write a function of an importable module as "
                          f"'package.module:function'")
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        spec = None
    except (Exception, SystemExit) as error:  # a parent package failed to import
        raise ConfigError(f"unknown sequence {path!r}: {user_files.failure(None, error)}") from None
    if spec is None:
        raise ConfigError(f"unknown sequence {path!r}: no module named {module_name!r} "
                          f"(is its directory on PYTHONPATH?)")
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:
        raise ConfigError(f"unknown sequence {path!r}: {user_files.failure(spec.origin, error)}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        known = sorted(user_files.sequences_of(module))
        raise ConfigError(f"unknown sequence {path!r}: module {module_name!r} has no function {function_name!r}"
                          f"{suggestion(function_name, known)}")
    return function
