import os
import shlex
import sys
import time

import pytest

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_experiment.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def fake_prefix():
    """The command prefix of the fake experiment, runnable from any directory."""
    return shlex.join([sys.executable, FAKE])


def runs_line(output):
    """The last line of a tuner run, the one the issue fixes word for word."""
    return output.strip().splitlines()[-1]


def alive(pid):
    """Whether a process still runs; a zombie (dead, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[-1][0] != "Z"
    except OSError:
        return True


def wait_for(condition, timeout=20.0, what="condition", process=None):
    """Poll `condition` until it holds; fail after `timeout` s, or as soon as `process` has ended."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def experiment_process(run_dir):
    """The pid of the experiment working under run_dir (fresh: its --output_dir; resumed: inside it)."""
    needle = os.fsencode(str(run_dir))
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
        except OSError:
            continue
        if any(word.endswith(b"experiment.py") for word in words) and any(w.startswith(needle) for w in words):
            return int(entry)
    return None


def log(run_dir):
    """A sweep run's stdout.log so far: it grows as the run goes."""
    path = run_dir / "stdout.log"
    return path.read_text() if path.exists() else ""
