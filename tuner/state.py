"""The durable state of a sweep: one directory per run, and result.json as its commit point.

    SWEEP/RUN_ID/command.txt   the exact command, written before the run starts
    SWEEP/RUN_ID/run.json      run id, command, parameters and their grid order (read by the summary)
    SWEEP/RUN_ID/stdout.log    written by the worker as the run goes (tuner/worker.py)
    SWEEP/RUN_ID/stderr.log
    SWEEP/RUN_ID/result.json   written last and atomically: a run is finished iff it is valid
    SWEEP/RUN_ID/...           whatever the experiment writes: RUN_ID is its --output_dir
    SWEEP/.tuner.lock          held while a tuner runs the sweep
    SWEEP/.tuner-stop-XXXX/    the local pool's stop token while the sweep runs

A result.json that is missing, half-written or corrupted means "not finished": the run goes
again. A corrupted one is moved aside (result.json.corrupt-TIMESTAMP), never silently deleted.
"""
import contextlib
import dataclasses
import glob
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone

from definitions.files import atomic_write_json, atomic_write_text
from training import dir_lock
from training.run_dir import name_problem
from tuner.worker import STDERR, STDOUT

RESULT = "result.json"
LOCK = ".tuner.lock"
RUN_SPEC = "run.json"
COMMAND = "command.txt"
STATUSES = ("completed", "failed")
STOP_TOKENS = ".tuner-stop-"  # prefix of the local pool's stop-token directories

# field -> allowed types; a result without one of these is not a result this tuner wrote.
_FIELDS = {
    "run_id": (str,), "command": (str,), "params": (dict,), "status": (str,),
    "exit_code": (int, type(None)), "reason": (str, type(None)),
    "accuracy": (int, float, type(None)), "loss": (int, float, type(None)),
    "iterations": (int, type(None)), "duration_s": (int, float),
    "started_at": (str,), "finished_at": (str,),
}
# Fields a result may lack (results written before they existed are still results).
_OPTIONAL_FIELDS = {
    "resumed_from_epoch": (int, type(None)), "resumed_from_step": (int, type(None)),
    "resumed_from_iteration": (int, type(None)),
}


@dataclasses.dataclass(frozen=True)
class ResultCheck:
    """What is on disk for a run: kind is "missing", "valid" or "invalid"."""

    kind: str
    result: dict = None
    problem: str = None


def run_dir(sweep_dir, run_id):
    """SWEEP/RUN_ID; a run id is one directory name (grid.run_id makes them so), never a path."""
    problem = name_problem(run_id)
    if problem:
        raise ValueError(f"run id {run_id!r} {problem}")
    return os.path.join(os.path.abspath(sweep_dir), run_id)


def write_run_spec(directory, run_id, command, params):
    """Record what the run is before it starts, so a sweep can be read even if it dies.

    `params` in grid order: JSON objects are written with sorted keys, so the order is kept
    as a list of its own (`tuner summary` lists the columns in it).
    """
    atomic_write_text(os.path.join(directory, COMMAND), command + "\n")
    atomic_write_json(os.path.join(directory, RUN_SPEC), {"run_id": run_id, "command": command, "params": params,
                                                          "param_order": list(params)})
    for stale in glob.glob(os.path.join(glob.escape(directory), "." + RESULT + ".*.tmp")):
        os.unlink(stale)  # left by a driver killed in the middle of an atomic write


def read_run_spec(directory):
    try:
        with open(os.path.join(directory, RUN_SPEC), encoding="utf-8") as handle:
            spec = json.load(handle)
    except (OSError, ValueError):
        return None
    return spec if isinstance(spec, dict) else None


def write_result(directory, result, stdout, stderr, resumed=False):
    """Logs first, result.json last: a crash in between leaves a run that goes again.

    stdout and stderr are this attempt's output; `resumed`: the attempt continued an earlier one.
    """
    for name, text in ((STDOUT, stdout), (STDERR, stderr)):
        _complete_log(os.path.join(directory, name), text, resumed)
    problem = validate(result, result.get("run_id"))
    if problem:
        raise ValueError(f"refusing to write an invalid result: {problem}")
    atomic_write_json(os.path.join(directory, RESULT), result)


def _complete_log(path, text, resumed):
    """Make the log at `path` this attempt's output (after the earlier ones' when it resumed).

    A worker on this machine (or on a shared filesystem) wrote the log as the run went: it is
    kept as it is. A worker elsewhere left it to be written here from what it sent back.
    """
    try:
        with open(path, "rb") as handle:
            earlier = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        earlier = None
    if earlier is not None and (earlier.endswith(text) if resumed else earlier == text):
        return
    atomic_write_text(path, ((earlier or "") if resumed else "") + text)


def read_result(directory, run_id=None):
    path = os.path.join(directory, RESULT)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return ResultCheck("missing")
    except OSError as error:
        return ResultCheck("invalid", problem=f"unreadable: {error.strerror}")
    try:
        result = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        what = "empty" if not raw.strip() else "not valid JSON (truncated or corrupted)"
        return ResultCheck("invalid", problem=what)
    problem = validate(result, run_id)
    if problem:
        return ResultCheck("invalid", result if isinstance(result, dict) else None, problem)
    return ResultCheck("valid", result)


def validate(result, run_id=None):
    """None when result is a complete result of run_id, else what is wrong with it."""
    if not isinstance(result, dict):
        return "not a JSON object"
    missing = [field for field in _FIELDS if field not in result]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    present = {field: types for field, types in _OPTIONAL_FIELDS.items() if field in result}
    for field, types in {**_FIELDS, **present}.items():
        value = result[field]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            return f"field {field!r} has the wrong type ({type(value).__name__})"
    if result["status"] not in STATUSES:
        return f"status {result['status']!r} is not completed or failed"
    if run_id is not None and result["run_id"] != run_id:
        return f"run_id {result['run_id']!r} does not match the directory {run_id!r}"
    if result["status"] == "completed" and (result["exit_code"] != 0 or result["accuracy"] is None):
        return "status completed without exit code 0 and an accuracy"
    return None


def move_aside(directory):
    """Rename a corrupted result.json out of the way and return its new path."""
    path = os.path.join(directory, RESULT)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = f"{path}.corrupt-{stamp}", 1
    while os.path.exists(target):
        n += 1
        target = f"{path}.corrupt-{stamp}-{n}"
    os.rename(path, target)
    return target


def find_run_dirs(sweep_dir):
    """Every run directory of a sweep: those holding a run.json or a result.json."""
    if not os.path.isdir(sweep_dir):
        return []
    found = []
    for entry in sorted(os.scandir(sweep_dir), key=lambda e: e.name):
        if entry.is_dir() and (os.path.exists(os.path.join(entry.path, RUN_SPEC)) or
                               os.path.exists(os.path.join(entry.path, RESULT))):
            found.append(entry.path)
    return found


class SweepBusy(RuntimeError):
    """Another tuner is running the same sweep directory."""


@contextlib.contextmanager
def lock_sweep(sweep_dir):
    """Hold SWEEP/.tuner.lock while a sweep runs, so two tuners never run the same runs.

    The lock an experiment holds on its run directory, of the same kind (training/dir_lock.py):
    the kernel drops it when its holder dies, even by SIGKILL, so a killed tuner never blocks
    the next one, and a refusal names the pid of the tuner that holds it.
    """
    try:
        held = dir_lock.acquire(sweep_dir, LOCK)
    except dir_lock.Busy as busy:
        raise SweepBusy(f"another tuner is running the sweep: {busy}") from None
    with held:
        yield


def new_stop_token_dir(sweep_dir):
    """A directory of this tuner's own in the sweep, for the local pool's stop file: inside the
    directory the user named (nothing is written elsewhere), removed when the sweep ends; one a
    killed tuner left is removed by the next (remove_stale_stop_tokens)."""
    os.makedirs(sweep_dir, exist_ok=True)
    return tempfile.mkdtemp(prefix=STOP_TOKENS, dir=sweep_dir)


def remove_stale_stop_tokens(sweep_dir, keep=None):
    """Under the sweep's lock: every stop-token directory but `keep` is a tuner's that no longer
    runs this sweep (killed before it removed its own, or refused the lock and leaving)."""
    keep = os.path.abspath(keep) if keep else None
    for path in glob.glob(os.path.join(glob.escape(sweep_dir), STOP_TOKENS + "*")):
        if os.path.isdir(path) and os.path.abspath(path) != keep:
            shutil.rmtree(path, ignore_errors=True)
