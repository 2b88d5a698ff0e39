"""What the tuner knows of `experiment`: its keys and options, and how to continue one of its runs.

The tuner runs any command (its tests use a stand-in), but when the prefix runs this project's
experiment (`python experiment.py`, the `experiment` script, `python -m training.cli`) it can do
more: check every grid key before anything starts (a network-dict key, or --data_dir), pass a key
that has no option of its own as `--set KEY=VALUE`, and continue an interrupted run with
`experiment --resume`. The keys are NetworkConfig's fields and the options are read from the
experiment's own click command, so neither is listed twice.
"""
import dataclasses
import os

import click

from definitions.config import NetworkConfig, validate_value
from definitions.errors import ConfigError
from definitions.names import suggestion
from training.cli import main as experiment_main
from training.cli_options import parse_setting
from tuner.resume import Resume

#: An experiment option that is no network-dict key but may differ between the runs of a sweep.
EXTRA_GRID_KEYS = ("data_dir",)
#: Options the tuner sets itself (--output_dir, --resume) or that train nothing (--list).
_TUNER_OWNED = ("output_dir", "resume_dir", "list_all")
_PROGRAMS = ("experiment", "experiment.py")
_MODULE = "training.cli"


class GridKeyError(ValueError):
    """A grid axis the experiment has no key for, or one the prefix already sets."""

    def __init__(self, message, key):
        super().__init__(message)
        self.key = key


def _option_names():
    """{every spelling of every experiment option: its parameter name}, aliases included."""
    return {spelling: param.name for param in experiment_main.params
            for spelling in (*param.opts, *param.secondary_opts) if spelling.startswith("--")}


OPTIONS = _option_names()
GRID_KEYS = tuple(field.name for field in dataclasses.fields(NetworkConfig)) + EXTRA_GRID_KEYS


def program_end(argv):
    """The index just past the experiment program in argv (its options follow), or None."""
    for index, word in enumerate(argv):
        if os.path.basename(word) in _PROGRAMS or (word == _MODULE and index and argv[index - 1] == "-m"):
            return index + 1
    return None


def runs_experiment(argv):
    return program_end(argv) is not None


def has_own_option(key):
    """Whether `--KEY VALUE` reaches the experiment; the other keys go through `--set KEY=VALUE`."""
    return OPTIONS.get("--" + key) == key


def prefix_settings(argv):
    """{key: (option, value)} for what the experiment options and --set items of a prefix set."""
    given, words = {}, list(argv[program_end(argv):])
    for index, word in enumerate(words):
        spelling, equals, inline = word.partition("=")
        name = OPTIONS.get(spelling)
        if name is None:
            continue
        value = inline if equals else (words[index + 1] if index + 1 < len(words) else "")
        if name == "settings":
            given[value.partition("=")[0].strip()] = ("--set", value)
        else:
            given[name] = (spelling, value)
    return given


def check_prefix(argv):
    """ValueError when an experiment prefix sets what the tuner sets itself."""
    for name, (spelling, _) in prefix_settings(argv).items():
        if name in _TUNER_OWNED:
            raise ValueError(f"the prefix must not contain {spelling} (the tuner adds --output_dir and --resume "
                             f"itself; --list trains nothing)")


def check_grid_key(key, argv):
    """GridKeyError unless `key` is a key the experiment takes and the prefix leaves to the grid."""
    if key not in GRID_KEYS:
        raise GridKeyError(f"grid key {key!r} is not a network-dict key{suggestion(key, GRID_KEYS)}; "
                           f"a grid varies a network-dict key (README, 'Defining a network') or data_dir", key)
    given = prefix_settings(argv)
    if key in given:
        spelling, value = given[key]
        raise GridKeyError(f"grid key {key!r} is also set by the prefix ({spelling} {value}): "
                           f"give it in one place", key)


#: Keys whose valid values depend on the users' files the prefix loads (--definitions): the run checks them.
_CHECKED_BY_THE_RUN = ("sequence", "definitions")


def check_grid_value(key, value):
    """GridKeyError unless `value` (the grid's text) is one the experiment accepts for `key`:
    converted as the run converts it (its option's type, or --set's JSON-else-string) and
    validated as a network-dict value, so `--grid type=BP,DFAM` fails before any run starts."""
    if key in EXTRA_GRID_KEYS or key in _CHECKED_BY_THE_RUN:
        return
    try:
        if has_own_option(key):
            param = next(param for param in experiment_main.params if param.name == key)
            converted = param.type.convert(value, param, None)
            converted = converted.upper() if key == "type" else converted
        else:
            converted = parse_setting(f"{key}={value}")[1]
        validate_value(key, converted)
    except (click.BadParameter, ConfigError) as error:
        message = error.message if isinstance(error, click.BadParameter) else str(error)
        raise GridKeyError(f"grid value {value!r} of key {key!r}: {message}", key) from None


def resume_spec(argv, params):
    """How to continue a run of this command (the program, --resume, the run's --data_dir), or
    None when the command is not the experiment's."""
    if not runs_experiment(argv):
        return None
    data_dir = dict(params).get("data_dir") or prefix_settings(argv).get("data_dir", (None, None))[1]
    return Resume(tuple(argv[:program_end(argv)]), ("--data_dir", data_dir) if data_dir else ())
