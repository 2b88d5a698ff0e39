"""A network of the user's own file, trained by `experiment` and resumed from another directory:
config.json records the file's absolute path, so `--resume` finds its sequence again."""
import json
import os
import shutil
import subprocess
import sys

import tensorflow as tf

from training.cli import DETERMINISM_ENV

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MY_NETS = """\
from definitions.networks import default_network
from layers import FullyConnected, Tanh


def narrow_mlp(output_size):
    return [FullyConnected(32, flatten=True), Tanh(), FullyConnected(output_size)]


my_network = dict(default_network, sequence="narrow_mlp", epochs=2, eval_period=0, seed=5, keep_checkpoints=2)
"""


def experiment(args, cwd):
    env = dict(os.environ, **{DETERMINISM_ENV: "1"})
    return subprocess.run([sys.executable, os.path.join(REPO, "experiment.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def numbers(run_dir):
    result = json.loads((run_dir / "result.json").read_text())
    return {key: result[key] for key in ("accuracy", "loss", "iterations", "epochs_completed", "status")}


def test_a_users_network_trains_its_own_sequence_and_resumes_from_another_directory(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "my_nets.py").write_text(MY_NETS)
    run = experiment(["--definitions", "my_nets.py", "--name", "my_network", "--output_dir", "runs"], cwd=work)
    assert run.returncode == 0, run.stderr[-2000:]
    run_dir = work / "runs" / "my_network_BP_001"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["definitions"] == [str(work / "my_nets.py")] and config["sequence"] == "narrow_mlp"
    # The file's architecture was trained: digits' 8x8 inputs, 32 units, 10 classes (TensorFlow's reader).
    checkpoint = str(run_dir / "checkpoints" / "epoch_2" / "model.ckpt")
    kernels = sorted(shape for name, shape in tf.train.list_variables(checkpoint) if name.endswith("/kernel"))
    assert kernels == [[32, 10], [64, 32]]

    # As a kill after epoch 1's checkpoint leaves it; resumed from elsewhere, it ends as the whole run did.
    stopped = tmp_path / "stopped"
    shutil.copytree(run_dir, stopped)
    os.remove(stopped / "result.json")
    shutil.rmtree(stopped / "checkpoints" / "epoch_2")
    resumed = experiment(["--resume", str(stopped)], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.splitlines()[0].startswith(f"resuming from {stopped / 'checkpoints' / 'epoch_1'}")
    assert numbers(stopped) == numbers(run_dir)
