"""The `experiment` command through click's CliRunner: output lines, files and exit codes."""
import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from training.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_one_epoch_run_prints_epoch_and_total_lines(tmp_path):
    result = invoke("--name", "default_network", "--type", "BP", "--epochs", "1", "--seed", "3",
                    "--output_dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"finished epoch 1, accuracy: \d+\.\d\d%, loss: \d+\.\d{4}", lines[0])
    match = re.fullmatch(r"total accuracy: (\d+\.\d\d)%, loss: \d+\.\d{4}, acc iterations: (\d+)", lines[-1])
    assert match and float(match.group(1)) > 80 and int(match.group(2)) == 144  # ceil(1437 / 10)
    run_dir = tmp_path / "default_network_BP_001"
    assert json.loads((run_dir / "config.json").read_text())["epochs"] == 1
    assert json.loads((run_dir / "result.json").read_text())["accuracy"] == pytest.approx(float(match.group(1)), abs=0.01)


def test_list_names_everything():
    result = invoke("--list")
    assert result.exit_code == 0
    for word in ("default_network", "liao_cifar_bn", "resnet_152", "digits", "cifar100", "BP", "DFAMEM"):
        assert word in result.output


@pytest.mark.parametrize("args,message", [
    (["--name", "defualt_network"], "unknown network 'defualt_network' (did you mean 'default_network'?)"),
    (["--set", "learning_reate=0.1"], "unknown config key 'learning_reate' (did you mean 'learning_rate'?)"),
    (["--batch_size", "-4"], "'batch_size' must be an integer in [1, 2147483647], got -4"),
    (["--learning_rate", "fast"], "'fast' is not a valid float"),
    (["--sequence", "long_fx"], "did you mean 'long_fc'"),
    (["--dataset_name", "imagenet"], "'imagenet' is not one of"),
    (["--memory_only", "perhaps"], "'perhaps' is not a valid boolean"),
    (["--set", "novalue"], "expected KEY=VALUE"),
])
def test_bad_input_exits_2_with_a_short_message(args, message, tmp_path):
    result = CliRunner().invoke(main, [*args, "--output_dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 6
    assert not any(tmp_path.iterdir())  # nothing half-made


def test_booleans_accept_yes_no_and_digits(tmp_path):
    result = invoke("--epochs", "1", "--gather_stats", "yes", "--save_graph", "0", "--output_dir", str(tmp_path))
    assert result.exit_code == 0
    assert json.loads((tmp_path / "default_network_BP_001" / "config.json").read_text())["gather_stats"] is True


def test_experiment_py_is_the_same_command(tmp_path):
    process = subprocess.run([sys.executable, "experiment.py", "--name", "nope", "--output_dir", str(tmp_path)],
                             cwd=REPO, capture_output=True, text=True)
    assert process.returncode == 2
    assert "unknown network 'nope'" in process.stderr and "Traceback" not in process.stderr


def test_a_shape_error_is_one_line_on_stderr_without_tensorflow_chatter(tmp_path):
    # Needs TensorFlow (the sequence is built to find the mismatch); its native start-up
    # banner must not reach the user's terminal.
    process = subprocess.run([sys.executable, "experiment.py", "--sequence", "liao_mnist", "--dataset_name",
                              "synthetic", "--set", "synthetic_shape=[16]", "--output_dir", str(tmp_path)],
                             cwd=REPO, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        "Error: sequence 'liao_mnist', layer 1: ConvolutionalLayer([5, 5], 20): expects an image input "
        "(batch, height, width, channels) but got a rank-2 input of shape (batch, 16)"]


def test_a_successful_run_prints_nothing_on_stderr(tmp_path):
    # The tuner keeps stderr.log per run and people read it: only real problems belong there.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.run([sys.executable, "experiment.py", "--epochs", "1", "--output_dir", str(tmp_path)],
                             cwd=REPO, capture_output=True, text=True, env=env)
    assert process.returncode == 0
    assert process.stderr == ""
    assert process.stdout.splitlines()[-1].startswith("total accuracy: ")
