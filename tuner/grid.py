"""Grids of commands: every combination of parameter values, each with a stable run id.

A run is a command prefix plus (name, value) pairs. Its id is derived from the command alone
(prefix and parameters, sorted), so the same grid maps to the same run directories after a
restart, whatever order the grid was written in. That is what makes resuming possible.
When the prefix runs `experiment`, its keys are checked first (tuner/experiment_command.py).
"""
import dataclasses
import hashlib
import itertools
import json
import re
import shlex

from tuner import experiment_command

# Parameter names become command-line options (`--learning_rate`), so keep them option-shaped.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# The runner adds --output_dir itself; a grid must not set it.
RESERVED = frozenset({"output_dir"})
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SLUG_MAX = 80


@dataclasses.dataclass(frozen=True)
class Param:
    """One grid axis: an option name and the values it takes."""

    name: str
    values: tuple


def sgen(name, values):
    """The original API: one grid axis, `sgen("type", ["BP", "DFA"])`.

    A single value that is not a list counts as a one-value axis. Values become the text
    of a command-line argument: numbers as Python prints them, booleans as true/false.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"grid parameter name {name!r} is not an option name (letters, digits, _ or -)")
    if name in RESERVED:
        raise ValueError(f"grid parameter {name!r} is set by the tuner itself and cannot be in a grid")
    if isinstance(values, (str, int, float, bool)):
        values = [values]
    texts = tuple(format_value(name, value) for value in values)
    if not texts:
        raise ValueError(f"grid parameter {name!r} has no values")
    duplicates = sorted({text for text in texts if texts.count(text) > 1})
    if duplicates:
        # Two equal values would be the same run twice, with the same id.
        raise ValueError(f"grid parameter {name!r} repeats value(s) {', '.join(duplicates)}")
    return Param(name, texts)


def format_value(name, value):
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars from np.linspace and friends
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, dict)):  # a grid file's value of a list key: synthetic_shape = [[8, 8, 1], [16]]
        return json.dumps(value)
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"grid parameter {name!r} has an empty value")
        if "\0" in value:  # no command-line argument can hold one
            raise ValueError(f"grid parameter {name!r}: value {value!r} contains a NUL character")
        return value.strip()
    raise ValueError(f"grid parameter {name!r}: value {value!r} is not a string, number or boolean")


@dataclasses.dataclass(frozen=True)
class Run:
    """One command of a grid: `prefix --name value ...`, parameters in grid order."""

    prefix: tuple
    params: tuple  # ((name, value), ...)
    settings: frozenset = frozenset()  # the names given as `--set name=value`: no option of their own

    @property
    def run_id(self):
        return run_id(self.prefix, self.params)

    def argv(self, output_dir=None):
        args = list(self.prefix)
        for name, value in self.params:
            args += ["--set", f"{name}={value}"] if name in self.settings else ["--" + name, value]
        if output_dir is not None:
            args += ["--output_dir", str(output_dir)]
        return args

    @property
    def command(self):
        """The command as a shell would read it, without the --output_dir the runner adds."""
        return shlex.join(self.argv())


def run_id(prefix, params):
    """A readable slug of the sorted parameters plus a short hash of the whole command."""
    ordered = sorted(params)
    canonical = json.dumps({"prefix": list(prefix), "params": ordered}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    slug = "_".join(f"{name}-{value}" for name, value in ordered)
    slug = _SLUG_UNSAFE.sub("-", slug).strip("-.")[:_SLUG_MAX].rstrip("-_.")
    return f"{slug}_{digest}" if slug else digest


def split_prefix(prefix):
    """`"python experiment.py"` -> argv; a prefix that cannot be a command raises ValueError."""
    if isinstance(prefix, (list, tuple)):
        argv = [str(part) for part in prefix]
    else:
        try:
            argv = shlex.split(prefix)
        except ValueError as error:
            raise ValueError(f"command prefix {prefix!r} cannot be split into words: {error}") from None
    if not argv:
        raise ValueError("the command prefix is empty")
    if any("\0" in part for part in argv):
        raise ValueError(f"command prefix {prefix!r} contains a NUL character")
    if any(part == "--output_dir" or part.startswith("--output_dir=") for part in argv):
        raise ValueError("the command prefix must not contain --output_dir: the tuner adds it per run")
    return tuple(argv)


def expand(prefix, params):
    """The cartesian product of the grid, first parameter varying slowest.

    For an experiment prefix every key is checked (experiment_command.GridKeyError names the
    closest valid one) and the keys without an option of their own become `--set` items.
    """
    names = [param.name for param in params]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"grid parameter(s) given twice: {', '.join(repeated)}")
    argv = split_prefix(prefix)
    settings = frozenset()
    if experiment_command.runs_experiment(argv):
        experiment_command.check_prefix(argv)
        for name in names:
            experiment_command.check_grid_key(name, argv)
        for param in params:  # every value too, as keys are: before anything starts
            for value in param.values:
                experiment_command.check_grid_value(param.name, value)
        settings = frozenset(name for name in names if not experiment_command.has_own_option(name))
    combos = itertools.product(*[param.values for param in params])
    return [Run(argv, tuple(zip(names, combo)), settings) for combo in combos]


class cmd_generator:
    """The original API: `cmd_generator([sgen(...), ...], command_prefix=..., output_path=...)`.

    `.commands` lists the commands of the grid; `.run_commands()` runs them through the
    resumable runner into `output_path` and returns the counts.
    """

    def __init__(self, params, command_prefix="python experiment.py", output_path="runs/sweep"):
        self.runs = expand(command_prefix, list(params))
        self.output_path = output_path

    @property
    def commands(self):
        return [run.command for run in self.runs]

    def run_commands(self, jobs=1, executor=None, retry_failed=False, timeout_s=None, echo=print):
        # Imported here so that building a grid needs nothing but this module.
        from tuner.executors import local_backend
        from tuner.runner import run_sweep

        if executor is not None:
            return run_sweep(self.runs, self.output_path, executor,
                             retry_failed=retry_failed, timeout_s=timeout_s, echo=echo)
        with local_backend(jobs, self.output_path) as backend:
            return run_sweep(self.runs, self.output_path, backend.executor, stop_token=backend.stop_token,
                             retry_failed=retry_failed, timeout_s=timeout_s, echo=echo)
