"""The function executors run: one command in a subprocess, reported back as plain data.

The command's stdout and stderr go straight into OUTPUT_DIR/stdout.log and stderr.log, so they
grow as the run goes (`tail -f` follows it); the child runs with PYTHONUNBUFFERED=1 so a Python
program's lines arrive as they are printed. A run that resumes appends to them. Everything else
(this attempt's output, exit code, timings) travels back to the driver, which writes result.json:
a Dask worker on another machine needs no shared filesystem (its logs stay on its machine, like
the experiment's own files, and the driver writes its copy), and a worker that dies leaves no
result behind.

It must stay a top-level function of a light module: executors pickle it by reference.
"""
import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone

from training.parent_death import PARENT_ENV
from training.run_dir import run_in_use
from tuner import attempts
from tuner.outcome import EXIT_BAD_INPUT
from tuner.resume import run_to_resume

STDOUT = "stdout.log"
STDERR = "stderr.log"

POLL_S = 0.2  # how often a running command checks for a stop request or a lost driver
GRACE_S = 5.0  # SIGTERM first; SIGKILL only if the command has not ended by then


class _Parent:
    """The parent this worker process is supervised by: the driver, or a Dask nanny.

    Recorded once per process, not per command: a pool hands its worker the next queued task
    before the first ends, and after the driver is killed outright the worker is re-parented;
    a parent taken at the start of that next command would look fine and the command would
    run unsupervised. A local pool worker is told its driver's pid (expect_parent), since by
    the time it has imported this module the driver may already be gone. Reset after a fork
    so a forked worker records its own parent.
    """

    pid = os.getppid()

    @classmethod
    def reset(cls):
        cls.pid = os.getppid()

    @classmethod
    def lost(cls):
        return os.getppid() != cls.pid


os.register_at_fork(after_in_child=_Parent.reset)


def expect_parent(pid):
    """Supervise commands under `pid`: once this process is no longer its child, start nothing."""
    _Parent.pid = pid


def run_command(argv, output_dir, stop_token=None, timeout_s=None, grace_s=GRACE_S, resume=None):
    """Run argv, return {exit_code, stdout, stderr, duration_s, started_at, finished_at, ...}.

    `ending` is None for a command that ended by itself, "timeout" when it ran past
    timeout_s, "interrupted" when a stop was requested or the driver went away, and "busy"
    when the run directory to resume is held by another process (`busy` names it; nothing
    was started); the driver records no result for an interrupted or busy run, so it runs
    again next time.
    `resume` (a tuner.resume.Resume): when output_dir holds the experiment's run directory,
    run `--resume` on it instead of argv; `resumed_dir` in the report names it.
    """
    report = {"argv": list(argv), "host": socket.gethostname(), "started_at": _now(),
              "exit_code": None, "stdout": "", "stderr": "", "ending": None, "error": None,
              "timeout_s": timeout_s, "resumed_dir": None, "busy": None}
    start = time.monotonic()
    if _stop_requested(stop_token) or _Parent.lost():
        # Queued work after Ctrl-C, or after the driver was killed: start nothing.
        return _finish(report, start, ending="interrupted")
    if resume is not None:
        report["resumed_dir"] = run_to_resume(output_dir)
        if report["resumed_dir"]:
            report["argv"] = resume.argv(report["resumed_dir"])
            # Still trained by another process (an experiment started by hand, or one left by
            # an older tuner): resuming beside it would have two writers of one run.
            if _busy(report):
                return _finish(report, start, ending="busy")
    # A resumed run continues its logs; a fresh start begins them again.
    mode = "ab" if report["resumed_dir"] else "wb"
    try:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, STDOUT), mode) as out, open(os.path.join(output_dir, STDERR), mode) as err:
            offsets = (out.tell(), err.tell())
            attempts.begin(output_dir, fresh=mode == "wb", started_at=report["started_at"])
            ending, process = _run(report["argv"], out, err, stop_token, timeout_s, grace_s, start)
            attempts.end(output_dir, round(time.monotonic() - start, 3), process.returncode)
    except OSError as error:
        report["error"] = f"could not start {report['argv'][0]!r}: {error.strerror or error}"
        return _finish(report, start)
    report["exit_code"] = process.returncode
    report["stdout"], report["stderr"] = (_read_from(os.path.join(output_dir, name), offset)
                                          for name, offset in zip((STDOUT, STDERR), offsets))
    if ending is None and report["resumed_dir"] and process.returncode == EXIT_BAD_INPUT and _busy(report):
        ending = "busy"  # another process took the run directory between the check and the start
    return _finish(report, start, ending=ending)


def _busy(report):
    """Note in `report` the process holding its run directory; whether there is one."""
    holder = run_in_use(report["resumed_dir"])
    if holder is not None:
        report["busy"] = {"pid": holder.pid, "lock": holder.lock_path}
    return holder is not None


def _run(argv, out, err, stop_token, timeout_s, grace_s, start):
    """Start argv writing into the open files `out` and `err`; return (ending, the ended process)."""
    # A new session makes the command a process group we can end as a whole, and keeps a
    # terminal's Ctrl-C and hangup away from it: the driver decides how runs end. PARENT_ENV
    # asks an experiment to end with this process, should it die (training/parent_death.py):
    # this thread waits below until the command ends, so the kernel ties it to the worker.
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1", **{PARENT_ENV: str(os.getpid())}))
    ending = None
    try:
        while True:
            try:
                process.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            # A lost parent means the driver was killed outright and nobody will read this
            # result: end the command instead of leaving an orphan training run behind.
            if _stop_requested(stop_token) or _Parent.lost():
                ending = "interrupted"
            elif timeout_s is not None and time.monotonic() - start > timeout_s:
                ending = "timeout"
            if ending:
                _end_group(process, grace_s)
                break
    finally:
        # Any exception here (KeyboardInterrupt, SystemExit from SIGTERM) must not leave
        # the command running on its own.
        if process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    return ending, process


def _read_from(path, offset):
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", errors="replace")


def _end_group(process, grace_s):
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process, sig):
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _stop_requested(stop_token):
    if stop_token is None:
        return False
    try:
        return bool(stop_token.is_set())
    except Exception:
        # A stop token we cannot reach (Dask scheduler gone) means the sweep is over.
        return True


def _finish(report, start, ending=None):
    report["ending"] = ending or report["ending"]
    report["duration_s"] = round(time.monotonic() - start, 3)
    report["finished_at"] = _now()
    return report


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StopFile:
    """A stop token for executors on this machine: set means the file exists.

    Picklable and shared by path, so a process pool needs no manager process; the Dask
    executor uses a distributed.Event instead.
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def set(self):
        with open(self.path, "w"):
            pass

    def is_set(self):
        return os.path.exists(self.path)
