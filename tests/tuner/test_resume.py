"""A sweep run of the real experiment, its tuner SIGKILLed after epoch 2, is continued by the next
`tuner run` from its checkpoint, in its own directory, and ends as an uninterrupted run ends.

Both runs enable op determinism (ZPPMEM_DETERMINISTIC=1, inherited through the tuner) so that a
different thread schedule cannot change a sum's order. About 40 s on two loaded cores.
"""
import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from tests.tuner.conftest import REPO, alive, experiment_process, log, runs_line, wait_for
from training.cli import DETERMINISM_ENV

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the experiment's process in /proc")

# 400 steps an epoch: the run is frozen long before epoch 3 could end. synthetic_size and
# synthetic_shape have no option of their own: the grid passes them as --set.
OPTIONS = ["--name", "default_network", "--dataset_name", "synthetic", "--epochs", "4", "--seed", "7"]
GRID = {"synthetic_size": "4000", "synthetic_shape": "[16]"}
STEPS = 400


def tuner(out, env):
    prefix = shlex.join([sys.executable, "experiment.py", *OPTIONS])
    args = [sys.executable, "tuner.py", "run", "--prefix", prefix, "--output", str(out)]
    for key, value in GRID.items():
        args += ["--grid", f"{key}={value}"]
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_sweep_resumes_its_run_at_epoch_3_and_ends_like_an_uninterrupted_run(tmp_path):
    env = dict(os.environ, **{DETERMINISM_ENV: "1"})
    out = tmp_path / "sweep"
    settings = [word for key, value in GRID.items() for word in ("--set", f"{key}={value}")]
    # The reference runs while the victim runs: two cores, half the waiting.
    reference = subprocess.Popen([sys.executable, "experiment.py", *OPTIONS, *settings, "--output_dir",
                                  str(tmp_path / "reference")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
    victim = tuner(out, env)
    pid = None
    try:
        wait_for(lambda: out.exists() and any(p.is_dir() and not p.name.startswith('.') for p in out.iterdir()), timeout=60,
                 what="the run directory", process=victim)
        (run_dir,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith('.')]
        wait_for(lambda: experiment_process(run_dir) is not None, timeout=60, what="the experiment", process=victim)
        pid = experiment_process(run_dir)
        # stdout.log grows as the run goes: its epoch lines are there while it trains.
        wait_for(lambda: "finished epoch 2" in log(run_dir), timeout=120, what="epoch 2", process=victim)
        os.killpg(pid, signal.SIGSTOP)  # frozen right after epoch 2, as a machine that died there
        victim.kill()
        victim.wait(timeout=30)
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), timeout=30, what="the experiment to end")
    finally:
        if victim.poll() is None:
            victim.kill()
        if pid is not None and alive(pid):
            os.killpg(pid, signal.SIGKILL)
    (experiment_dir,) = [p for p in run_dir.iterdir() if p.is_dir()]
    assert not (run_dir / "result.json").exists() and not (experiment_dir / "result.json").exists()
    assert sorted(os.listdir(experiment_dir / "checkpoints")) == ["epoch_1", "epoch_2"]
    assert "finished epoch 3" not in log(run_dir)

    resumed = tuner(out, env)
    stdout, stderr = resumed.communicate(timeout=300)
    reference_out, _ = reference.communicate(timeout=300)
    assert resumed.returncode == 0 and reference.returncode == 0, stderr[-2000:]
    assert runs_line(stdout) == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed"
    assert [p for p in run_dir.iterdir() if p.is_dir()] == [experiment_dir]  # continued in place, no _002

    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "completed"
    assert (result["resumed_from_epoch"], result["resumed_from_step"], result["resumed_from_iteration"]) == \
        (2, None, 2 * STEPS)
    # Both attempts are timed (the killed one by its worker, or from its logs when the worker died
    # too), duration_s is their sum: the first trained two epochs, so it is no small part of it.
    first_attempt, second_attempt = result["attempts"]
    assert first_attempt["duration_s"] > 1
    assert not second_attempt["estimated"] and second_attempt["duration_s"] == result["last_attempt_s"]
    assert result["duration_s"] == round(first_attempt["duration_s"] + second_attempt["duration_s"], 3)
    # The log holds both attempts; the second trained epochs 3 and 4 only.
    first, second = log(run_dir).split(f"resuming from {experiment_dir / 'checkpoints' / 'epoch_2'} "
                                       f"(epoch 2, iteration {2 * STEPS})\n")
    finished = re.compile(r"^finished epoch (\d+)", re.M)
    assert finished.findall(first) == ["1", "2"] and finished.findall(second) == ["3", "4"]
    # The same numbers as the uninterrupted run: the printed line and the stored values.
    assert second.splitlines()[-1] == reference_out.splitlines()[-1]
    mine = json.loads((experiment_dir / "result.json").read_text())
    (reference_dir,) = (tmp_path / "reference").iterdir()
    theirs = json.loads((reference_dir / "result.json").read_text())
    assert (mine["accuracy"], mine["loss"], mine["iterations"]) == \
        (theirs["accuracy"], theirs["loss"], theirs["iterations"])
    assert result["accuracy"] == round(theirs["accuracy"], 2)
    # The keys without an option of their own reached the run.
    config = json.loads((experiment_dir / "config.json").read_text())
    assert (config["synthetic_size"], config["synthetic_shape"]) == (4000, [16])
    (row,) = csv.DictReader(open(out / "summarise.csv"))
    assert row["resumed"] == "true" and row["status"] == "completed"
