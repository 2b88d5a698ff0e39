"""Run directories: `<output_dir>/<network>_<type>_<NNN>` (or `<id>` when --id is given).

A run directory's name is one path component, checked before anything is created: a run id
from the user (or a network name) can never point outside the output directory.
"""
import json
import math
import numbers
import os
import shutil
import tempfile
import unicodedata

from definitions.errors import ConfigError, ZppMemError
from definitions.files import atomic_write_json
from training import dir_lock

#: The longest run id, in bytes of UTF-8: well under the usual 255-byte limit on a file name,
#: leaving room for the suffixes of temporary files and for other file systems.
RUN_ID_MAX_BYTES = 128
_SEPARATORS = {"/", "\\", os.sep, os.altsep} - {None}
#: Held by the one experiment process that runs (or resumes) a run directory.
LOCK = ".experiment.lock"


class OutputError(ZppMemError):
    """The output place cannot be used (not a directory, permission denied, read-only): bad input."""


class WriteFailed(ZppMemError):
    """A write failed after training started (disk full, I/O error); the input was fine."""

    def __init__(self, message, run_dir=None):
        super().__init__(message)
        self.run_dir = run_dir


class OutOfMemory(ZppMemError):
    """A step ran out of memory although the check let it start (the model missed, or something
    else took the memory): exit code 4 (training/cli.py), the checkpoints kept for --resume."""

    def __init__(self, error, run_dir):
        detail = getattr(error, "message", None) or str(error) or ""
        lines = [line.strip() for line in detail.splitlines() if line.strip()]
        # TensorFlow's message opens with "Graph execution error:"; the line that says what
        # could not be allocated is the one to keep.
        first = next((line for line in lines if "OOM" in line or "allocat" in line),
                     lines[0] if lines else type(error).__name__)
        super().__init__(f"out of memory during training ({first[:200]}); use a smaller batch_size or a "
                         f"type that needs less (experiment plan --budget SIZE compares them)")
        self.run_dir = run_dir


class RunBusy(OutputError):
    """Another process is running this run directory: bad input, and that process is left alone."""


def lock_run_dir(run_dir):
    """Hold the run directory's lock (a dir_lock.Held) while this process trains in it.

    Two processes writing one run's checkpoints remove each other's temporary files; the
    second is refused (RunBusy, naming the pid) before it changes anything.
    """
    try:
        return dir_lock.acquire(run_dir, LOCK)
    except dir_lock.Busy as busy:
        raise RunBusy(f"run directory {busy}; wait for it to end, or end it, then resume") from None
    except OSError as error:
        raise OutputError(f"cannot lock the run directory: {describe_os_error(error)}") from None


def run_in_use(run_dir):
    """The dir_lock.Busy of the process running `run_dir`, or None when no process does."""
    return dir_lock.in_use(run_dir, LOCK)


def check_run_id(name, what="--id"):
    """`name` when it is a plain directory name, else ConfigError saying what is wrong with it."""
    problem = name_problem(name)
    if problem:
        raise ConfigError(f"{what} {name!r} {problem}; a run id names one directory inside --output_dir "
                          f"(1 to {RUN_ID_MAX_BYTES} bytes, no / or \\, not . or .., no control characters)")
    return name


def name_problem(name):
    """Why `name` cannot be one path component, or None."""
    if not isinstance(name, str):
        return "is not a string"
    if not name.strip():
        return "is empty"
    if name in (".", ".."):
        return "is not a name"
    if any(separator in name for separator in _SEPARATORS):
        return "contains a path separator"
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in name):
        return "contains a control character"
    size = len(name.encode("utf-8"))
    if size > RUN_ID_MAX_BYTES:
        return f"is {size} bytes long, more than {RUN_ID_MAX_BYTES}"
    return None


def check_path(option, value):
    """A path option: any path the user names, but not an empty one and none with a NUL."""
    if value is not None and (not isinstance(value, str) or not value or "\0" in value):
        reason = "is empty" if value == "" else "is not a path"
        raise ConfigError(f"{option} {value!r} {reason}")
    return value


def describe_os_error(error, path=None):
    """`<path>: <reason>` of an OSError, e.g. `runs/x: Permission denied`."""
    where = path or error.filename
    reason = error.strerror or str(error)
    return f"{where}: {reason}" if where else reason


def check_writable(directory):
    """Create and remove a file in `directory`: the only test of writability root cannot pass."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"cannot write in {describe_os_error(error, directory)}") from None


def create_run_dir(output_dir, network, algorithm, run_id=None):
    """Make the run's directory; OutputError (naming the path and the reason) when it cannot."""
    try:
        return _create_run_dir(output_dir, network, algorithm, run_id)
    except OSError as error:
        raise OutputError(f"cannot create the run directory: {describe_os_error(error)}") from None


def _create_run_dir(output_dir, network, algorithm, run_id):
    check_path("--output_dir", output_dir)
    os.makedirs(output_dir, exist_ok=True)
    if run_id is not None:
        path = os.path.join(output_dir, check_run_id(run_id))
        os.makedirs(path, exist_ok=True)
        return path
    prefix = f"{network}_{algorithm}_"
    check_run_id(prefix + "000", what="run directory")
    taken = [int(n[len(prefix):]) for n in os.listdir(output_dir)
             if n.startswith(prefix) and n[len(prefix):].isdigit()]
    number = max(taken, default=0) + 1
    while True:  # mkdir is atomic: two runs started at once never share a directory
        path = os.path.join(output_dir, f"{prefix}{number:03d}")
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            number += 1


def clear_previous_run(run_dir):
    """A fresh run in a reused directory (--id): the old result and checkpoints are not its own.

    Left in place, `--resume` would report the old result or continue the old run.
    """
    for name in ("result.json", "history.csv"):
        if os.path.exists(os.path.join(run_dir, name)):
            os.remove(os.path.join(run_dir, name))
    shutil.rmtree(os.path.join(run_dir, "checkpoints"), ignore_errors=True)


def write_config(run_dir, config):
    atomic_write_json(os.path.join(run_dir, "config.json"), config.to_dict())


def read_config(run_dir):
    """The validated config a run was started with (its config.json)."""
    from definitions.config import validate
    path = os.path.join(run_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as handle:
            values = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{run_dir!r} is not a run directory: it has no config.json") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    try:
        return validate(values)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def read_result(run_dir):
    """result.json as a dict, or None when it is missing or unreadable (the run did not finish)."""
    try:
        with open(os.path.join(run_dir, "result.json"), encoding="utf-8") as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def write_result(run_dir, result):
    atomic_write_json(os.path.join(run_dir, "result.json"), _finite(result))


def _finite(value):
    """NaN and Inf (a diverged loss) become null: JSON has neither, and strict readers reject them."""
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
