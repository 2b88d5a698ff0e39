"""Ctrl-C and SIGKILL against a real `python tuner.py run` process."""
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from tests.tuner.conftest import REPO, alive, runs_line, wait_for
from tuner.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process groups")


def start_tuner(out, fake_prefix, *grid, jobs=2):
    args = [sys.executable, os.path.join(REPO, "tuner.py"), "run", "--prefix", fake_prefix,
            "--jobs", str(jobs), "--output", str(out)]
    for axis in grid:
        args += ["--grid", axis]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_dir(out, prefix, exclude=None):
    (name,) = [n for n in os.listdir(out) if (os.path.isdir(out / n) and n.startswith(prefix) and
                                               not (exclude and n.startswith(exclude)))]
    return out / name


def read_pid(directory):
    path = directory / "pid"
    return int(path.read_text()) if path.exists() and path.read_text() else None


def children_of(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(") ", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def test_ctrl_c_ends_running_commands_and_writes_no_half_result(tmp_path, fake_prefix):
    out = tmp_path / "sweep"
    tuner = start_tuner(out, fake_prefix, "mode=ok,hang", "sleep=0,0.01")
    try:
        hanging = lambda: [out / n for n in os.listdir(out) if n.startswith("mode-hang") and read_pid(out / n)]
        wait_for(lambda: out.exists() and hanging(), what="a hanging run to start", process=tuner)
        hang_pid = read_pid(hanging()[0])
        tuner.send_signal(signal.SIGINT)
        stdout, stderr = tuner.communicate(timeout=30)
    finally:
        if tuner.poll() is None:
            tuner.kill()
    assert tuner.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert runs_line(stdout) == "runs: 4 total, 2 completed now, 0 skipped (already complete), 0 failed"
    assert not alive(hang_pid)
    for name in os.listdir(out):
        if name.startswith("mode-hang"):  # started or still queued: ended, and no result either way
            pid = read_pid(out / name)
            assert pid is None or not alive(pid)
            assert not (out / name / "result.json").exists()


def test_a_run_in_flight_when_the_tuner_is_sigkilled_runs_again(tmp_path, fake_prefix):
    out = tmp_path / "sweep"
    gate = tmp_path / "gate"
    tuner = start_tuner(out, fake_prefix, f"wait_for=none,{gate}")
    try:
        gated = lambda: run_dir(out, "wait_for-", exclude="wait_for-none")
        wait_for(lambda: out.exists() and sum((out / n).is_dir() and not n.startswith('.') for n in os.listdir(out)) == 2 and
                 (run_dir(out, "wait_for-none") / "result.json").exists() and read_pid(gated()) is not None,
                 what="one run done, one waiting", process=tuner)
        workers = children_of(tuner.pid)
        blocked = gated()
        orphan = read_pid(blocked)
        tuner.kill()
        tuner.wait(timeout=10)
    finally:
        if tuner.poll() is None:
            tuner.kill()
            gate.write_text("open")  # let a leftover command finish on its own
    # The driver died without a word: the run it was waiting on has no result...
    assert not (blocked / "result.json").exists()
    # ...and its command does not live on as an orphan (its worker notices the lost driver).
    try:
        wait_for(lambda: not alive(orphan), timeout=10, what="the orphaned command to end")
    finally:
        gate.write_text("open")  # whatever happened, let a leftover command finish on its own

    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", f"wait_for=none,{gate}",
                                       "--output", str(out)], catch_exceptions=False)
    assert runs_line(result.output) == "runs: 2 total, 1 completed now, 1 skipped (already complete), 0 failed"
    assert (blocked / "ran.txt").read_text().count("ran") == 2
    # Idle pool workers of the dead driver leave too, after the grace period.
    if os.path.isdir("/proc"):
        wait_for(lambda: not any(alive(pid) for pid in workers), timeout=15, what="orphaned pool workers to exit")


def test_queued_runs_of_a_sigkilled_tuner_never_start(tmp_path, fake_prefix):
    """The pool hands a worker its next task before the first ends; orphaned, it must not run it."""
    out = tmp_path / "sweep"
    gates = [tmp_path / f"gate{i}" for i in range(3)]
    tuner = start_tuner(out, fake_prefix, "wait_for=" + ",".join(map(str, gates)), jobs=1)
    started = lambda: [out / n for n in os.listdir(out) if (out / n / "pid").exists()] if out.exists() else []
    try:
        wait_for(lambda: len(started()) == 1, what="the first run to start", process=tuner)
        (first,) = started()
        tuner.kill()
        tuner.wait(timeout=10)
        wait_for(lambda: not alive(read_pid(first)), timeout=10, what="the orphaned command to end")
        time.sleep(2.0)  # time enough for an orphaned worker to start the next queued command
        assert started() == [first]
    finally:
        for gate in gates:
            gate.write_text("open")


SLOW_WORKER_DRIVER = '''
import os, sys, time
if __name__ == "__mp_main__":
    # A spawned worker imports the driver's main module before its initializer runs: this
    # makes every worker start slowly, so the driver can die before one has initialised.
    time.sleep(2.0)
elif __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    from tuner.executors import local_backend
    from tuner.worker import run_command
    marker, out = sys.argv[2], sys.argv[3]
    with local_backend(1, os.path.dirname(out)) as backend:
        command = [sys.executable, "-c", f"open({marker!r}, 'w').close()"]
        backend.executor.submit(run_command, command, out, backend.stop_token)
        time.sleep(0.5)  # the task reaches the call queue's pipe, the worker is still starting
        print("ready", flush=True)
        time.sleep(60)
'''


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the pool worker in /proc")
def test_a_worker_that_starts_after_its_driver_died_runs_nothing_and_leaves(tmp_path):
    """The cause of an old flaky failure: a pool worker still importing when the driver was
    SIGKILLed took init for its driver, ran the queued command and waited on its queue forever."""
    driver = tmp_path / "driver.py"
    driver.write_text(SLOW_WORKER_DRIVER)
    marker = tmp_path / "command-ran"
    process = subprocess.Popen([sys.executable, str(driver), REPO, str(marker), str(tmp_path / "out")],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        (worker,) = [pid for pid in children_of(process.pid) if b"spawn_main" in command_line(pid)]
        process.kill()
        process.wait(timeout=10)
        wait_for(lambda: not alive(worker), timeout=15, what="the orphaned worker to exit")
    finally:
        if process.poll() is None:
            process.kill()
    assert not marker.exists()
