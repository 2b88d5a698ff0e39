"""A sweep survives a closed terminal: SIGHUP, then SIGKILL, to the whole process group of a
running `tuner run` leave no experiment behind, and the next `tuner run` resumes the run from
its checkpoint; it ends with the accuracy and loss of an uninterrupted run.

The tuner runs in a session of its own, as under a terminal: its group is the tuner and its
pool workers (each experiment is in a session of its own). About 40 s on two loaded cores.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

from tests.tuner.conftest import REPO, alive, experiment_process, log, runs_line, wait_for
from training.cli import DETERMINISM_ENV

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the experiment's process in /proc")

# 400 steps an epoch, 40 epochs: an experiment left to itself trains for longer than
# ENDED_WITHIN_S after the test acts on a log line.
OPTIONS = ["--name", "default_network", "--type", "DFA", "--dataset_name", "synthetic", "--epochs", "40", "--seed", "7"]
GRID = ["--grid", "synthetic_size=4000", "--grid", "synthetic_shape=[16]"]
ENDED_WITHIN_S = 6  # an experiment whose tuner and workers died ends after its current step


def tuner_command(out):
    prefix = shlex.join([sys.executable, "experiment.py", *OPTIONS])
    return [sys.executable, "tuner.py", "run", "--prefix", prefix, "--output", str(out), *GRID]


def start_tuner(out, env):
    return subprocess.Popen(tuner_command(out), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def hang_up(out, env, sig, ready):
    """Start a sweep, wait until `ready(log)`, send `sig` to its process group; return (tuner, seconds
    until its experiment was gone)."""
    tuner = start_tuner(out, env)
    pid = None
    try:
        wait_for(lambda: out.exists() and any(p.is_dir() and not p.name.startswith('.') for p in out.iterdir()), timeout=60,
                 what="the run directory", process=tuner)
        (run_dir,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith('.')]
        wait_for(lambda: ready(log(run_dir)) and experiment_process(run_dir), timeout=120,
                 what="the experiment to train", process=tuner)
        pid = experiment_process(run_dir)
        os.killpg(tuner.pid, sig)
        sent = time.monotonic()
        wait_for(lambda: not alive(pid), timeout=ENDED_WITHIN_S, what=f"the experiment to end after {sig.name}")
        gone_after = time.monotonic() - sent
        tuner.communicate(timeout=60)
    finally:
        if tuner.poll() is None:
            os.killpg(tuner.pid, signal.SIGKILL)
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert not (run_dir / "result.json").exists()  # no tuner recorded it: it runs again next time
    return tuner, gone_after


def test_sighup_then_sigkill_of_the_group_leave_no_run_behind_and_the_run_resumes(tmp_path):
    env = dict(os.environ, **{DETERMINISM_ENV: "1"})
    out = tmp_path / "sweep"
    settings = [word for axis in GRID[1::2] for word in ("--set", axis)]
    # The reference runs while the victim runs: two cores, half the waiting.
    reference = subprocess.Popen([sys.executable, "experiment.py", *OPTIONS, *settings, "--output_dir",
                                  str(tmp_path / "reference")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
    try:
        # A closed terminal: the tuner stops its runs and exits as after Ctrl-C.
        tuner, _ = hang_up(out, env, signal.SIGHUP, lambda text: "finished epoch 2" in text)
        assert tuner.returncode == 130
        # The next start resumes; then tuner and workers are SIGKILLed together (kill -9 -PGID):
        # nobody is left to stop the experiment, which ends by itself.
        resumed_and_trained = lambda text: "resuming from" in text and "finished epoch" in text.rpartition(
            "resuming from")[2]
        tuner, gone_after = hang_up(out, env, signal.SIGKILL, resumed_and_trained)
        assert tuner.returncode == -signal.SIGKILL
        print(f"experiment gone {gone_after:.2f} s after the SIGKILL of its tuner's group")

        final = subprocess.run(tuner_command(out), cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        reference_out, _ = reference.communicate(timeout=300)
    finally:
        if reference.poll() is None:
            reference.kill()
    assert final.returncode == 0 and reference.returncode == 0, final.stderr[-2000:]
    assert runs_line(final.stdout) == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed"
    (run_dir,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith('.')]
    assert log(run_dir).count("resuming from") == 2
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "completed" and result["resumed_from_epoch"] >= 2
    # The same numbers as the uninterrupted run.
    assert log(run_dir).splitlines()[-1] == reference_out.splitlines()[-1]
    (experiment_dir,) = [p for p in run_dir.iterdir() if p.is_dir()]
    (reference_dir,) = (tmp_path / "reference").iterdir()
    mine, theirs = (json.loads((d / "result.json").read_text()) for d in (experiment_dir, reference_dir))
    assert (mine["accuracy"], mine["loss"], mine["iterations"]) == (theirs["accuracy"], theirs["loss"], theirs["iterations"])
