"""Value checks for config fields. Each returns the normalised value or raises ConfigError."""
from definitions.errors import ConfigError
from definitions.names import suggestion

INT32_MAX = 2**31 - 1


def _fail(key, expected, value):
    raise ConfigError(f"config key {key!r} must be {expected}, got {value!r}")


def boolean(key, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return _fail(key, "true or false", value)


def integer(low=None, high=None, optional=False):
    def check(key, value):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(key, "an integer" + (" or null" if optional else ""), value)
        if (low is not None and value < low) or (high is not None and value > high):
            _fail(key, _range("an integer", low, high), value)
        return value
    return check


def number(low=None, high=None, low_open=False):
    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            _fail(key, "a number", value)
        too_low = low is not None and (value <= low if low_open else value < low)
        if too_low or (high is not None and value > high):
            _fail(key, _range("a number", low, high, low_open), value)
        return float(value)
    return check


def one_of(choices):
    def check(key, value):
        if value not in choices:
            raise ConfigError(f"config key {key!r} must be one of {', '.join(map(str, choices))}, "
                              f"got {value!r}{suggestion(value, list(choices))}")
        return value
    return check


def optional_string(key, value):
    # An empty path would silently mean "the default"; a NUL cannot reach the file system.
    if value is not None and (not isinstance(value, str) or not value or "\0" in value):
        _fail(key, "a non-empty path or null", value)
    return value


PLAN_CHARACTERS = frozenset("0123456789|() ")


def checkpoint_plan(key, value):
    """Null or a BPCKPT plan as written ('(2|2)|4|4'); an integer is a plan of one segment.

    Only its characters are checked here: its structure and the blocks it covers are checked
    against the sequence (planning.checkpoint_plan.parse, called by training.preflight), which
    definitions, below planning in the imports, cannot call.
    """
    if value is None:
        return None
    if type(value) is int and value >= 1:  # `--set checkpoint_plan=12` reads 12 as JSON
        return str(value)
    if not isinstance(value, str) or not value.strip() or set(value) - PLAN_CHARACTERS:
        _fail(key, "null or segment lengths joined by '|', a recomputed segment split in parentheses "
                   "(e.g. '(2|2)|4|4')", value)
    return value


def memory_size(key, value):
    """Null, bytes (a positive integer) or a size as people write it ('300MiB', '2GiB', '1.5GB'),
    kept as written: config.json then reads as the user wrote it."""
    if value is None:
        return None
    from definitions.sizes import parse_size
    parse_size(value, f"config key {key!r}")
    return value


def int_list(min_length=1, max_length=None, high=None):
    def check(key, value):
        in_range = lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v and (high is None or v <= high)
        if not isinstance(value, (list, tuple)) or len(value) < min_length or \
                (max_length is not None and len(value) > max_length) or not all(map(in_range, value)):
            length = f"{min_length} to {max_length}" if max_length is not None else f"at least {min_length}"
            _fail(key, f"a list of {length} integers in [1, {high}]" if high else
                  f"a list of {length} positive integers", value)
        return tuple(value)
    return check


def accuracy_thresholds(max_epoch):
    """minimum_accuracy: [(epoch, percent), ...]; a run below percent after epoch stops."""
    def check(key, value):
        if not isinstance(value, (list, tuple)):
            _fail(key, "a list of (epoch, accuracy %) pairs", value)
        pairs = []
        for pair in value:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2 or isinstance(pair[0], bool) \
                    or not isinstance(pair[0], int) or not 1 <= pair[0] <= max_epoch \
                    or isinstance(pair[1], bool) or not isinstance(pair[1], (int, float)) \
                    or not 0 <= pair[1] <= 100:
                _fail(key, f"a list of (epoch in [1, {max_epoch}], accuracy in [0, 100]) pairs", value)
            pairs.append((pair[0], float(pair[1])))
        return tuple(pairs)
    return check


def _range(kind, low, high, low_open=False):
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low}, {high}]"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low}"
    return f"{kind} <= {high}"
