"""Names a user types (keys, types, sequences, layer settings): check one, suggest the closest.

A leaf module, like errors.py and files.py: it imports nothing of the project but the errors,
and no TensorFlow, so definitions, layers and training all use it without importing each other
(ARCHITECTURE.md, "Imports").
"""
import difflib

from definitions.errors import ConfigError


def check_name(kind, name, known):
    """`name` if it is one of `known`; otherwise a ConfigError listing them, with the closest first."""
    if name not in known:
        raise ConfigError(f"unknown {kind} {name!r}{suggestion(name, known)}; known: {', '.join(known)}")
    return name


def suggestion(name, known):
    """' (did you mean X?)' for the closest of `known`, or '' when nothing is close."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def by_name(kind, names, items, name_of):
    """{name: item} in the order of `names`, the one list of those names.

    Where the items must live elsewhere (classes that import TensorFlow, while the names are
    needed without it), this ties them to the list at import time: a name without an item or
    an item without a name fails loudly instead of becoming a choice that cannot run.
    """
    found = {}
    for item in items:
        found.setdefault(name_of(item), []).append(item)
    twice = sorted(name for name, same in found.items() if len(same) > 1)
    missing = [name for name in names if name not in found]
    extra = sorted(name for name in found if name not in names)
    if twice or missing or extra:
        raise RuntimeError(f"the {kind} do not match their list of names: "
                           f"named twice {twice}, without an implementation {missing}, not in the list {extra}")
    return {name: found[name][0] for name in names}
