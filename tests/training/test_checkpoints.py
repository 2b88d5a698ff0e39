"""Checkpoints and --resume: a run that is killed, resumed or damaged ends where an unbroken one ends.

Every comparison is against a real uninterrupted run with the same seed, never against copied
numbers. Runs in one process are bitwise repeatable on CPU (test_trainer checks this); runs in
separate processes enable op determinism (ZPPMEM_DETERMINISTIC=1) so that a different thread
schedule cannot change a sum's order.
"""
import csv
import json
import os
import re
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
         "sequence": "fcReLu", "batch_size": 20, "epochs": 4, "learning_rate": 0.1, "optimizer": "momentum", "seed": 5,
         # These tests look at (and damage) the checkpoints a run keeps while it goes: the two newest,
         # which keep_checkpoints 2 leaves in place once it finished (its default 1 keeps the newest).
         "keep_checkpoints": 2}


def run(out, log=None, **changes):
    config = resolve_config(SMALL, "small", changes)
    return run_experiment(config, str(out), log=log or (lambda line: None))


def saved(run_dir):
    """The checkpoint directories of a run, oldest first."""
    return [os.path.basename(c.path) for c in checkpoints.list_checkpoints(os.path.join(run_dir, "checkpoints"))]


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
    assert saved(run_dirs[0]) == ["epoch_2", "epoch_3"]


@pytest.mark.parametrize("changes,expected", [
    ({"epochs": 5, "checkpoint_every": 2}, ["epoch_2", "epoch_4"]),
    ({"epochs": 2, "checkpoint_every": 0}, []),
    ({"epochs": 1}, []),  # default: 1 when epochs > 1, else none
])
def test_checkpoint_every(tmp_path, changes, expected):
    run_dir, _ = run(tmp_path, **changes)
    assert saved(run_dir) == expected


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


# -- mid-epoch checkpoints (checkpoint_steps) --------------------------------------------------
# SMALL has 6 steps per epoch (120 examples, batches of 20).

@pytest.mark.parametrize("changes,expected", [
    # Iterations 4, 8, 12 (epoch 2's last step: no epoch-end checkpoint is due, so a mid-epoch one), 16.
    ({"epochs": 3, "checkpoint_steps": 4, "checkpoint_every": 0}, ["epoch_2_step_6", "epoch_3_step_4"]),
    # Iteration 12 is epoch 2's end, whose own checkpoint follows at once: no mid-epoch one there.
    ({"epochs": 3, "checkpoint_steps": 4}, ["epoch_3_step_4", "epoch_3"]),
    ({"epochs": 2, "checkpoint_steps": 0}, ["epoch_1", "epoch_2"]),
])
def test_checkpoint_steps(tmp_path, changes, expected):
    written = []
    save = checkpoints.save

    def recording(*args, **kwargs):
        written.append(os.path.basename(save(*args, **kwargs)))
        return written[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoints, "save", recording)
        run_dir, _ = run(tmp_path, **changes)
    assert saved(run_dir) == expected == written[-2:]
    if changes["checkpoint_steps"] and changes.get("checkpoint_every") == 0:
        assert written == ["epoch_1_step_4", "epoch_2_step_2", "epoch_2_step_6", "epoch_3_step_4"]
    elif changes["checkpoint_steps"]:
        assert written == ["epoch_1_step_4", "epoch_1", "epoch_2_step_2", "epoch_2", "epoch_3_step_4", "epoch_3"]


def test_a_mid_epoch_manifest_holds_where_the_epoch_stands(tmp_path):
    run_dir, _ = run(tmp_path, epochs=3, checkpoint_steps=4)
    manifest = checkpoints.verify(os.path.join(run_dir, "checkpoints", "epoch_3_step_4"))
    assert (manifest["epoch"], manifest["step"], manifest["iteration"]) == (3, 4, 16)
    assert manifest["shuffle"] == {"seed": 5, "next_epoch": 3, "next_epoch_seed": 5 * 1_000_003 + 3, "skip_batches": 4}
    assert manifest["result"]["epochs_completed"] == 2 and manifest["result"]["iterations"] == 16
    assert checkpoints.verify(os.path.join(run_dir, "checkpoints", "epoch_3"))["step"] is None


def interrupt_after_saving(monkeypatch, name):
    """Make the run stop (as Ctrl-C would) right after it saved the checkpoint `name`."""
    save = checkpoints.save

    def save_then_stop(*args, **kwargs):
        path = save(*args, **kwargs)
        if os.path.basename(path) == name:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(checkpoints, "save", save_then_stop)


@pytest.mark.parametrize("changes", [
    {"checkpoint_steps": 7},  # iterations 7, 14 (epoch 3, step 2), 21
    # Statistics steps (every 3rd iteration) fetch and feed their batch; DFA with Adam and batch norm.
    {"checkpoint_steps": 7, "type": "DFA", "optimizer": "adam", "learning_rate": 0.01, "sequence": "liao_mnist_bn",
     "synthetic_shape": [8, 8, 1], "gather_stats": True, "stat_period": 3},
])
def test_a_run_stopped_mid_epoch_resumes_its_epoch_and_ends_like_an_uninterrupted_run(tmp_path, monkeypatch, changes):
    _, reference = run(tmp_path / "reference", **changes)
    _, unsaved = run(tmp_path / "unsaved", **dict(changes, checkpoint_steps=None))
    # Saving mid-epoch changes nothing: a run without checkpoint_steps ends bitwise the same.
    assert numbers(reference) == numbers(unsaved)
    assert reference.get("alignment_degrees") == unsaved.get("alignment_degrees")

    interrupt_after_saving(monkeypatch, "epoch_3_step_2")  # iteration 14 of 24
    run_dirs = []
    config = resolve_config(SMALL, "small", changes)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, str(tmp_path / "stopped"), log=lambda line: None, started=run_dirs.append)
    monkeypatch.undo()
    lines = []
    _, resumed = resume_experiment(run_dirs[0], log=lines.append)
    assert lines[0] == (f"resuming from {os.path.join(run_dirs[0], 'checkpoints', 'epoch_3_step_2')} "
                        f"(epoch 3, step 2, iteration 14)")
    assert [line.split(",")[0] for line in lines[1:]] == ["finished epoch 3", "finished epoch 4"]
    assert numbers(resumed) == numbers(reference)  # 24 iterations: the 2 done batches were not trained again
    assert resumed.get("alignment_degrees") == reference.get("alignment_degrees")
    assert (resumed["resumed_from_epoch"], resumed["resumed_from_iteration"]) == (3, 14)
    assert json.load(open(os.path.join(run_dirs[0], "result.json")))["resumed_from_iteration"] == 14


def test_damaged_mid_epoch_checkpoint_falls_back_to_the_previous_one(tmp_path):
    changes = {"epochs": 3, "checkpoint_steps": 4, "checkpoint_every": 0}
    finished_dir, reference = run(tmp_path / "reference", **changes)
    run_dir = interrupted_copy((finished_dir, reference), tmp_path)
    newest = os.path.join(run_dir, "checkpoints", "epoch_3_step_4")
    os.truncate(os.path.join(newest, "model.ckpt.index"), 10)
    lines = []
    _, result = resume_experiment(run_dir, log=lines.append)
    assert lines[0].startswith(f"checkpoint {newest} is unusable: model.ckpt.index does not match")
    # The previous one was taken after epoch 2's last batch: nothing of epoch 2 is left to train.
    assert lines[1].endswith("epoch_2_step_6 (epoch 2, step 6, iteration 12)")
    assert [line.split(",")[0] for line in lines[2:]] == ["finished epoch 2", "finished epoch 3"]
    assert numbers(result) == numbers(reference)


def test_no_mid_epoch_checkpoint_holds_non_finite_weights(tmp_path, monkeypatch):
    """A weight that went Inf while the loss stayed finite (put there by hand before iteration 8's save)."""
    import numpy as np
    from training.trainer import Trainer
    due = Trainer._checkpoint_due

    def poisoned(self, epoch, step, steps):
        if self.iteration == 8:
            kernel = self.model.blocks[1].weight_layer.kernel
            self.session.run(kernel.assign(tf.fill(kernel.shape, np.float32(np.inf))))
        return due(self, epoch, step, steps)

    monkeypatch.setattr(Trainer, "_checkpoint_due", poisoned)
    run_dir, result = run(tmp_path, checkpoint_steps=4)
    assert result["status"] == "diverged" and result["diverged_at"] == {"epoch": 2, "iteration": 8}
    assert result["reason"] == "NaN or Inf in model/block_1/0_FullyConnected/kernel"
    assert saved(run_dir) == ["epoch_1_step_4", "epoch_1"]


def test_saving_mid_epoch_adds_nothing_to_the_graph(tmp_path):
    """Steps cost the same with checkpoints: a save runs the Saver built up front and builds no op."""
    from definitions.datasets import load_dataset
    from training.trainer import Trainer
    sizes = []
    for every in (None, 1):
        config = resolve_config(SMALL, "small", {"checkpoint_steps": every, "epochs": 2})
        trainer = Trainer(config, load_dataset(config), str(tmp_path / str(every)), log=lambda line: None)
        before = len(trainer.model.graph.get_operations())
        result = trainer.run()
        trainer.close()
        sizes.append((before, len(trainer.model.graph.get_operations())))
        assert result["checkpoint_seconds"] > 0
    assert sizes[0] == sizes[1] and sizes[1][0] == sizes[1][1]


def test_kill_during_an_epoch_then_resume_ends_like_an_uninterrupted_run(tmp_path):
    """`python experiment.py` SIGKILLed in epoch 2, once its checkpoint after step 200 of it exists.

    The line `epoch 2, iteration 1000, ...` is printed only after that checkpoint is on disk.
    """
    args = [sys.executable, "experiment.py", "--name", "default_network", "--dataset_name", "synthetic",
            "--set", "synthetic_size=8000", "--set", "synthetic_shape=[16]", "--epochs", "3", "--seed", "7",
            "--checkpoint_steps", "200", "--checkpoint_every", "0", "--set", "eval_period=200"]
    env = dict(os.environ, **{DETERMINISM_ENV: "1"})
    reference = subprocess.Popen(args + ["--output_dir", str(tmp_path / "reference")], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    victim = subprocess.Popen(args + ["--output_dir", str(tmp_path / "victim")], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    run_dir = tmp_path / "victim" / "default_network_BP_001"
    seen = []
    for line in victim.stdout:
        seen.append(line)
        if line.startswith("epoch 2, iteration 1000,"):
            assert (run_dir / "checkpoints" / "epoch_2_step_200" / "manifest.json").exists()
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL, seen
    assert not (run_dir / "result.json").exists()  # it really died mid-run

    resumed = subprocess.run([sys.executable, "experiment.py", "--resume", str(run_dir)], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    reference_out, _ = reference.communicate(timeout=120)
    assert resumed.returncode == 0 and reference.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stderr == ""
    lines = resumed.stdout.splitlines()
    # Where the kill landed: after the checkpoint of step 200 at least (a later one may have followed).
    match = re.fullmatch(rf"resuming from {re.escape(str(run_dir / 'checkpoints'))}/epoch_2_step_(\d+) "
                         rf"\(epoch 2, step (\d+), iteration (\d+)\)", lines[0])
    assert match and match.group(1) == match.group(2), lines[0]
    step = int(match.group(1))
    assert 200 <= step < 800 and int(match.group(3)) == 800 + step
    # Every line after the resume point is the uninterrupted run's (`results in <dir>` aside).
    reference_lines = reference_out.splitlines()
    resume_point = next(index for index, line in enumerate(reference_lines)
                        if line.startswith(f"epoch 2, iteration {800 + step},"))
    assert lines[1:-2] == reference_lines[resume_point + 1:-2]
    assert [line.split(",")[0] for line in lines if line.startswith("finished")] == \
        ["finished epoch 2", "finished epoch 3"]
    assert lines[-1] == reference_lines[-1] and lines[-1].startswith("total accuracy:")
    mine = json.loads((run_dir / "result.json").read_text())
    theirs = json.loads((tmp_path / "reference" / "default_network_BP_001" / "result.json").read_text())
    assert numbers(mine) == numbers(theirs) and mine["iterations"] == 2400
    assert (mine["resumed_from_epoch"], mine["resumed_from_iteration"]) == (2, 800 + step)


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


def test_checkpoint_steps_is_a_cli_option(tmp_path):
    result = CliRunner().invoke(main, ["--name", "default_network", "--dataset_name", "synthetic", "--epochs", "1",
                                       "--set", "synthetic_size=100", "--checkpoint_steps", "3",
                                       "--keep_checkpoints", "2", "--output_dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert saved(str(tmp_path / "default_network_BP_001")) == ["epoch_1_step_6", "epoch_1_step_9"]  # of 10 steps
    result = CliRunner().invoke(main, ["--checkpoint_steps", "-1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 2 and "'checkpoint_steps' must be an integer" in result.output
    result = CliRunner().invoke(main, ["--set", "checkpoint_step=3", "--output_dir", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean 'checkpoint_steps'" in result.output


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
    # history.csv continued on resume: one row per epoch, the test figures of the uninterrupted run.
    mine, theirs = (list(csv.DictReader(open(d / "history.csv")))
                    for d in (run_dir, tmp_path / "default_network_BP_002"))
    assert [row["epoch"] for row in mine] == ["1", "2"]
    assert [(r["test_loss"], r["test_accuracy"]) for r in mine] == [(r["test_loss"], r["test_accuracy"]) for r in theirs]
    assert 0 < float(mine[0]["cumulative_seconds"]) <= float(mine[1]["cumulative_seconds"])
    assert float(mine[1]["train_loss"]) > 0 and 0 <= float(mine[1]["train_accuracy"]) <= 100


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
                     saved(run_dir)))

    run_experiment(config.replace(epochs=2), str(tmp_path), run_id="same", log=log)
    assert seen == [("finished epoch 1", False, ["epoch_1"]), ("finished epoch 2", False, ["epoch_1", "epoch_2"])]


def test_a_finished_run_keeps_its_newest_checkpoint_unless_asked(tmp_path):
    """Issue "A researcher's day", item 16: two checkpoints while the run goes, the newest after."""
    seen = []
    config = resolve_config(SMALL, "small", {"epochs": 3, "keep_checkpoints": 1})
    run_dir, _ = run_experiment(config, str(tmp_path), run_id="one",
                                log=lambda line: seen.append(saved(os.path.join(str(tmp_path), "one"))))
    assert ["epoch_1", "epoch_2"] in seen  # while it ran, the two newest
    assert saved(run_dir) == ["epoch_3"]
    run_dir, _ = run_experiment(config.replace(keep_checkpoints=None), str(tmp_path), run_id="all",
                                log=lambda line: None)
    assert saved(run_dir) == ["epoch_1", "epoch_2", "epoch_3"]
    assert resolve_config({}, "x", {}).keep_checkpoints == 1
