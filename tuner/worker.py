"""The function executors run: one command in a subprocess, reported back as plain data.

It writes nothing of the tuner's own: stdout, stderr, exit code and timings travel back to the
driver, which writes the run's files. So a Dask worker on another machine needs no shared
filesystem, and a worker that dies leaves no half-written result behind.

It must stay a top-level function of a light module: executors pickle it by reference.
"""
import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timezone

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


def run_command(argv, output_dir, stop_token=None, timeout_s=None, grace_s=GRACE_S):
    """Run argv, return {exit_code, stdout, stderr, duration_s, started_at, finished_at, ...}.

    `ending` is None for a command that ended by itself, "timeout" when it ran past
    timeout_s, and "interrupted" when a stop was requested or the driver went away; the
    driver records no result for an interrupted run, so it runs again next time.
    """
    report = {"argv": list(argv), "host": socket.gethostname(), "started_at": _now(),
              "exit_code": None, "stdout": "", "stderr": "", "ending": None, "error": None,
              "timeout_s": timeout_s}
    start = time.monotonic()
    if _stop_requested(stop_token) or _Parent.lost():
        # Queued work after Ctrl-C, or after the driver was killed: start nothing.
        return _finish(report, start, ending="interrupted")
    try:
        os.makedirs(output_dir, exist_ok=True)
        # A new session makes the command a process group we can end as a whole, and keeps a
        # terminal's Ctrl-C away from it: the driver decides how runs end.
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
    except OSError as error:
        report["error"] = f"could not start {argv[0]!r}: {error.strerror or error}"
        return _finish(report, start)

    ending, out, err = None, b"", b""
    try:
        while True:
            try:
                out, err = process.communicate(timeout=POLL_S)
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
                out, err = _end_group(process, grace_s)
                break
    finally:
        # Any exception here (KeyboardInterrupt, SystemExit from SIGTERM) must not leave
        # the command running on its own.
        if process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    report["exit_code"] = process.returncode
    report["stdout"] = out.decode("utf-8", errors="replace")
    report["stderr"] = err.decode("utf-8", errors="replace")
    return _finish(report, start, ending=ending)


def _end_group(process, grace_s):
    _signal_group(process, signal.SIGTERM)
    try:
        # communicate, not wait: keep draining the pipes so a command that prints on its way
        # out cannot block on a full pipe.
        return process.communicate(timeout=grace_s)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        return process.communicate()


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
