"""One process per run directory: the lock an experiment holds, refused for a second process,
gone with its holder however it dies."""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.training.lock_holder import REPO, holding
from training.cli import main
from training.run_dir import LOCK, RunBusy, lock_run_dir, run_in_use

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")

# 400 steps an epoch: seconds of training after the first epoch line, for the test to act in.
EPOCHS = 20
LONG_RUN = [sys.executable, "experiment.py", "--name", "default_network", "--type", "DFA", "--dataset_name",
            "synthetic", "--set", "synthetic_size=4000", "--set", "synthetic_shape=[16]", "--epochs", str(EPOCHS),
            "--seed", "7"]


def test_the_lock_names_its_holder_and_is_gone_after_a_sigkill(tmp_path):
    with holding(tmp_path) as holder:
        assert run_in_use(tmp_path).pid == holder.pid
        with pytest.raises(RunBusy, match=rf"run directory {tmp_path} is in use by pid {holder.pid} "):
            lock_run_dir(tmp_path)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert run_in_use(tmp_path) is None  # the kernel dropped it: no stale lock
    with lock_run_dir(tmp_path):
        assert run_in_use(tmp_path) is not None  # held by this process now
    assert not (tmp_path / LOCK).exists()  # a holder that ends normally removes the file


def test_a_second_resume_of_a_run_in_progress_is_refused_and_the_first_ends_normally(tmp_path):
    first = subprocess.Popen(LONG_RUN + ["--output_dir", str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stdout:
            if line.startswith("finished epoch 1"):
                break
        run_dir = tmp_path / "default_network_DFA_001"
        second = CliRunner().invoke(main, ["--resume", str(run_dir)])
        rest, errors = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.exit_code == 2
    assert second.output.splitlines() == [
        f"Error: run directory {run_dir} is in use by pid {first.pid} (it holds {run_dir / LOCK}); "
        "wait for it to end, or end it, then resume"]
    # The first run was not disturbed: it trained to its end and wrote its result.
    assert first.returncode == 0, errors[-2000:]
    assert rest.splitlines()[-1].startswith("total accuracy:") and f"finished epoch {EPOCHS}" in rest
    assert json.loads((run_dir / "result.json").read_text())["epochs_completed"] == EPOCHS
    assert not (run_dir / LOCK).exists()


def test_sigterm_and_sighup_stop_a_run_as_ctrl_c_does_unless_started_under_nohup(tmp_path):
    def start(name, *wrapper):
        return subprocess.Popen([*wrapper, *LONG_RUN, "--output_dir", str(tmp_path / name)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def signal_after_epoch_1(process, sig):
        # Each run is signalled as soon as it says so, whichever of them gets there first.
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("finished epoch 1"):
                process.send_signal(sig)
                break
        rest, errors = process.communicate(timeout=300)
        return "".join(lines) + rest, errors

    runs = {"SIGTERM": start("term"), "SIGHUP": start("hup"), "nohup": start("nohup", "nohup")}
    try:
        with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
            futures = {name: pool.submit(signal_after_epoch_1, process, signal.SIGHUP if name == "nohup" else
                                         getattr(signal, name)) for name, process in runs.items()}
            ended = {name: future.result() for name, future in futures.items()}
    finally:
        for process in runs.values():
            if process.poll() is None:
                process.kill()
    for name, directory in (("SIGTERM", "term"), ("SIGHUP", "hup")):
        run_dir = tmp_path / directory / "default_network_DFA_001"
        assert runs[name].returncode == 130, ended[name][1][-2000:]
        assert ended[name][1].splitlines()[-1] == f"interrupted by {name}; continue it with: experiment --resume {run_dir}"
        assert not (run_dir / "result.json").exists() and not (run_dir / LOCK).exists()
        assert f"finished epoch {EPOCHS}" not in ended[name][0]
    # nohup asked for the hangup to be ignored: that run trains to its end.
    assert runs["nohup"].returncode == 0 and f"finished epoch {EPOCHS}" in ended["nohup"][0]
