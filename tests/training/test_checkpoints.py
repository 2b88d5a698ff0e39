"""Checkpoints and --resume: a run that is killed, resumed or damaged ends where an unbroken one ends.

Every comparison is against a real uninterrupted run with the same seed, never against copied
numbers. Runs in one process are bitwise repeatable on CPU (test_trainer checks this); runs in
separate processes enable op determinism (ZPPMEM_DETERMINISTIC=1) so that a different thread
schedule cannot change a sum's order.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import tensorflow as tf
from click.testing import CliRunner

from definitions.errors import ConfigError
from training import checkpoints
from training.cli import DETERMINISM_ENV, main
from training.run import resolve_config, resume_experiment, run_experiment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 120,
         "sequence": "fcReLu", "batch_size": 20, "epochs": 4, "learning_rate": 0.1, "optimizer": "momentum", "seed": 5}


def run(out, log=None, **changes):
    config = resolve_config(SMALL, "small", changes)
    return run_experiment(config, str(out), log=log or (lambda line: None))


def numbers(result):
    return {key: result[key] for key in ("accuracy", "loss", "iterations", "epochs_completed", "status")}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """An uninterrupted 4-epoch run: the reference, and a run directory to damage (copy it first)."""
    run_dir, result = run(tmp_path_factory.mktemp("reference"))
    return run_dir, result


def interrupted_copy(finished, tmp_path):
    """The finished run as a kill after its last checkpoint would leave it: no result.json."""
    run_dir = str(tmp_path / "run")
    shutil.copytree(finished[0], run_dir)
    os.remove(os.path.join(run_dir, "result.json"))
    return run_dir


# -- what a checkpoint holds and when it is written --------------------------------------------

def test_checkpoint_is_on_disk_before_its_finished_epoch_line(tmp_path):
    seen = []

    def log(line):
        if line.startswith("finished epoch"):
            epoch = int(line.split(",")[0].split()[-1])
            path = os.path.join(run_dirs[0], "checkpoints", f"epoch_{epoch}")
            seen.append((epoch, checkpoints.verify(path)["epoch"]))

    run_dirs = []
    config = resolve_config(SMALL, "small", {"epochs": 3})
    run_experiment(config, str(tmp_path), log=log, started=run_dirs.append)
    assert seen == [(1, 1), (2, 2), (3, 3)]
    # Only the last two are kept.
    assert [epoch for epoch, _ in checkpoints.list_checkpoints(os.path.join(run_dirs[0], "checkpoints"))] == [2, 3]


@pytest.mark.parametrize("changes,expected", [
    ({"epochs": 5, "checkpoint_every": 2}, [2, 4]),
    ({"epochs": 2, "checkpoint_every": 0}, []),
    ({"epochs": 1}, []),  # default: 1 when epochs > 1, else none
])
def test_checkpoint_every(tmp_path, changes, expected):
    run_dir, _ = run(tmp_path, **changes)
    assert [e for e, _ in checkpoints.list_checkpoints(os.path.join(run_dir, "checkpoints"))] == expected


def test_checkpoint_holds_every_variable_and_the_state_to_continue(tmp_path):
    # DFA with Adam on a network with batch norm: weights, feedback matrices, moving averages,
    # Adam's moments and powers, global_step.
    from definitions.datasets import load_dataset
    from training.trainer import Trainer
    config = resolve_config(SMALL, "small", {"type": "DFA", "optimizer": "adam", "sequence": "liao_mnist_bn",
                                             "synthetic_shape": [8, 8, 1]})
    trainer = Trainer(config, load_dataset(config), str(tmp_path))
    with trainer.model.graph.as_default():
        trainer.session.run(trainer.model.init_op)
        expected = {v.op.name for v in tf.compat.v1.global_variables()}
        path = checkpoints.save(trainer.session, trainer.checkpoint_saver, str(tmp_path), 3, 42, config,
                                {"status": "running"})
    trainer.close()
    saved = {name for name, _ in tf.train.list_variables(os.path.join(path, "model.ckpt"))}
    assert saved == expected
    for part in ("feedback/B_", "moving_mean", "moving_variance", "/Adam", "beta1_power", "global_step"):
        assert any(part in name for name in saved), part
    manifest = checkpoints.verify(path)
    assert (manifest["epoch"], manifest["iteration"]) == (3, 42)
    assert manifest["shuffle"] == {"seed": 5, "next_epoch": 4, "next_epoch_seed": 5 * 1_000_003 + 4}
    assert set(manifest["files"]) == set(os.listdir(path)) - {"manifest.json"}
    assert not [name for name in os.listdir(os.path.dirname(path)) if name.startswith(".")]  # no temp left


# -- resume ------------------------------------------------------------------------------------

def test_kill_after_epoch_2_then_resume_ends_like_an_uninterrupted_run(tmp_path):
    """The real thing: `python experiment.py` killed with SIGKILL once it printed `finished epoch 2`."""
    args = [sys.executable, "experiment.py", "--name", "default_network", "--dataset_name", "synthetic",
            "--set", "synthetic_size=20000", "--set", "synthetic_shape=[16]", "--epochs", "4", "--seed", "7"]
    env = dict(os.environ, **{DETERMINISM_ENV: "1"})
    # The reference runs while the victim runs: two cores, half the waiting.
    reference = subprocess.Popen(args + ["--output_dir", str(tmp_path / "reference")], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    victim = subprocess.Popen(args + ["--output_dir", str(tmp_path / "victim")], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = []
    for line in victim.stdout:
        seen.append(line)
        if line.startswith("finished epoch 2"):
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL, seen
    run_dir = tmp_path / "victim" / "default_network_BP_001"
    assert not (run_dir / "result.json").exists()  # it really died mid-run

    resumed = subprocess.run([sys.executable, "experiment.py", "--resume", str(run_dir)], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    reference_out, _ = reference.communicate(timeout=120)
    assert resumed.returncode == 0 and reference.returncode == 0, resumed.stderr[-2000:]
    lines = resumed.stdout.splitlines()
    assert lines[0] == f"resuming from {run_dir / 'checkpoints' / 'epoch_2'} (epoch 2, iteration 4000)"
    epoch_lines = [line for line in lines if line.startswith("finished epoch")]
    assert [line.split(",")[0] for line in epoch_lines] == ["finished epoch 3", "finished epoch 4"]
    # The printed lines and the stored numbers match the uninterrupted run's exactly.
    reference_lines = reference_out.splitlines()
    assert "\r" not in reference_out  # piped, not a terminal: plain lines, no progress bar
    assert epoch_lines == [line for line in reference_lines
                           if line.startswith(("finished epoch 3", "finished epoch 4"))]
    assert lines[-1] == reference_lines[-1] and lines[-1].startswith("total accuracy:")
    mine = json.loads((run_dir / "result.json").read_text())
    theirs = json.loads((tmp_path / "reference" / "default_network_BP_001" / "result.json").read_text())
    assert numbers(mine) == numbers(theirs)
    assert mine["resumed_from_epoch"] == 2


@pytest.mark.parametrize("damage,reason", [
    ("flip a byte of the weights", "model.ckpt.data-00000-of-00001 does not match its sha256"),
    ("truncate the index", "model.ckpt.index does not match its sha256"),
    ("delete the manifest", "no manifest.json"),
    ("garble the manifest", "manifest.json cannot be read"),
])
def test_damaged_newest_checkpoint_is_reported_and_the_previous_one_used(finished, tmp_path, damage, reason):
    run_dir = interrupted_copy(finished, tmp_path)
    newest = os.path.join(run_dir, "checkpoints", "epoch_4")
    if damage == "flip a byte of the weights":
        path = os.path.join(newest, "model.ckpt.data-00000-of-00001")
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(path, "wb").write(bytes(data))
    elif damage == "truncate the index":
        os.truncate(os.path.join(newest, "model.ckpt.index"), 10)
    elif damage == "delete the manifest":
        os.remove(os.path.join(newest, "manifest.json"))
    else:
        open(os.path.join(newest, "manifest.json"), "w").write('{"epoch": 4, "fil')
    lines = []
    _, result = resume_experiment(run_dir, log=lines.append)
    assert lines[0].startswith(f"checkpoint {newest} is unusable: ") and reason in lines[0], lines[0]
    assert lines[0].endswith("trying the previous one")
    assert lines[1].startswith(f"resuming from {os.path.join(run_dir, 'checkpoints', 'epoch_3')} (epoch 3")
    assert [line.split(",")[0] for line in lines[2:]] == ["finished epoch 4"]
    assert numbers(result) == numbers(finished[1])
    assert checkpoints.verify(newest)["epoch"] == 4  # saved again, whole


def test_no_usable_checkpoint_starts_again_from_epoch_1(finished, tmp_path):
    run_dir = interrupted_copy(finished, tmp_path)
    shutil.rmtree(os.path.join(run_dir, "checkpoints"))
    os.makedirs(os.path.join(run_dir, "checkpoints", ".epoch_1.tmp-123"))  # a save cut short
    lines = []
    _, result = resume_experiment(run_dir, log=lines.append)
    assert "ignoring partial checkpoint" in lines[0] and "starting from epoch 1" in lines[1]
    assert numbers(result) == numbers(finished[1])
    assert not os.path.exists(os.path.join(run_dir, "checkpoints", ".epoch_1.tmp-123"))  # cleaned up


def test_a_checkpoint_of_a_different_config_is_refused(finished, tmp_path):
    run_dir = interrupted_copy(finished, tmp_path)
    config_path = os.path.join(run_dir, "config.json")
    values = json.load(open(config_path))
    values["learning_rate"] = 0.5
    json.dump(values, open(config_path, "w"))
    with pytest.raises(ConfigError, match=r"different config \(learning_rate: 0\.1 -> 0\.5\)"):
        resume_experiment(run_dir)


# -- the CLI ------------------------------------------------------------------------------------

def test_resume_of_a_finished_run_reports_it_and_trains_nothing(finished):
    result = CliRunner().invoke(main, ["--resume", finished[0]], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert "already finished (status completed)" in lines[0]
    assert lines[-1] == (f"total accuracy: {finished[1]['accuracy']:.2f}%, loss: {finished[1]['loss']:.4f}, "
                         f"acc iterations: {finished[1]['iterations']}")


@pytest.mark.parametrize("args,message", [
    (["--epochs", "8"], "--epochs cannot be given with it"),
    (["--set", "seed=3"], "--set cannot be given with it"),
    (["--name", "fcReLu", "--output_dir", "elsewhere"], "--name, --output_dir cannot be given with it"),
])
def test_resume_rejects_settings_that_would_make_another_run(finished, args, message):
    result = CliRunner().invoke(main, ["--resume", finished[0], *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_resume_of_something_that_is_not_a_run_is_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["--resume", str(tmp_path)])
    assert result.exit_code == 2 and "is not a run directory: it has no config.json" in result.output
    result = CliRunner().invoke(main, ["--resume", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such directory" in result.output


def test_checkpoint_every_is_a_cli_option(tmp_path):
    result = CliRunner().invoke(main, ["--name", "default_network", "--dataset_name", "synthetic", "--epochs", "2",
                                       "--checkpoint_every", "0", "--output_dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not os.path.exists(tmp_path / "default_network_BP_001" / "checkpoints")
    result = CliRunner().invoke(main, ["--checkpoint_every", "-1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 2 and "'checkpoint_every' must be an integer" in result.output


def test_ctrl_c_names_the_run_to_resume_and_resuming_finishes_it(tmp_path, monkeypatch):
    from training.trainer import Trainer
    train_epoch = Trainer._train_epoch

    def interrupted(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return train_epoch(self, epoch)

    args = ["--name", "default_network", "--dataset_name", "synthetic", "--epochs", "2", "--output_dir", str(tmp_path)]
    monkeypatch.setattr(Trainer, "_train_epoch", interrupted)
    result = CliRunner().invoke(main, args)
    run_dir = tmp_path / "default_network_BP_001"
    assert result.exit_code == 130
    assert result.output.strip().splitlines()[-1] == f"interrupted; continue it with: experiment --resume {run_dir}"
    monkeypatch.setattr(Trainer, "_train_epoch", train_epoch)
    resumed = CliRunner().invoke(main, ["--resume", str(run_dir)])
    reference = CliRunner().invoke(main, args)
    assert resumed.exit_code == reference.exit_code == 0
    assert resumed.output.splitlines()[-1] == reference.output.splitlines()[-1]


def test_restore_model_path_accepts_a_checkpoint_directory(finished, tmp_path):
    lines = []
    run(tmp_path, log=lines.append, restore_model=True, learning_rate=1e-9, epochs=1,
        restore_model_path=os.path.join(finished[0], "checkpoints", "epoch_4"))
    assert lines[0] == f"restored model from {os.path.join(finished[0], 'checkpoints', 'epoch_4', 'model.ckpt')}"
    assert lines[1] == f"finished epoch 1, accuracy: {finished[1]['accuracy']:.2f}%, loss: {finished[1]['loss']:.4f}"


def test_a_fresh_run_in_a_reused_directory_forgets_the_old_runs_state(tmp_path):
    config = resolve_config(SMALL, "small", {"epochs": 3})
    run_dir, _ = run_experiment(config, str(tmp_path), run_id="same", log=lambda line: None)
    seen = []

    def log(line):
        seen.append((line.split(",")[0], os.path.exists(os.path.join(run_dir, "result.json")),
                     [e for e, _ in checkpoints.list_checkpoints(os.path.join(run_dir, "checkpoints"))]))

    run_experiment(config.replace(epochs=2), str(tmp_path), run_id="same", log=log)
    assert seen == [("finished epoch 1", False, [1]), ("finished epoch 2", False, [1, 2])]
