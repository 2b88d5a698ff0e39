"""The project's own error types.

Everything a user can get wrong (a config key, a layer setting, a dataset path, a shape that
does not fit) raises a subclass of ZppMemError with a message meant to be printed as is; the
CLI turns it into exit code 2 without a traceback. ConfigError is also a ValueError so that
code expecting the standard type keeps working.
"""


class ZppMemError(Exception):
    """Base of the errors whose message is for the user."""


class ConfigError(ZppMemError, ValueError):
    """A bad network dict, layer setting, CLI value or shape."""


class DatasetError(ZppMemError):
    """A dataset that cannot be found or read."""
