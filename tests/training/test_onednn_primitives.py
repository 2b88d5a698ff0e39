"""oneDNN's convolution-gradient primitives kept between steps (training/onednn_primitives.py):
counted in oneDNN's own log of the primitives it creates, in a real `experiment` run."""
import collections
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from training.cli import main
from training.onednn_primitives import ENV, keep_onednn_primitives

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 16  # synthetic_size 128 at batch 8: every batch the same shape
RUN = ["experiment.py", "--sequence", "liao_mnist", "--dataset_name", "synthetic", "--set", "synthetic_shape=[8, 8, 1]",
       "--set", "synthetic_classes=4", "--set", "synthetic_size=128", "--batch_size", "8", "--epochs", "1",
       "--set", "eval_period=0"]
CONVOLUTIONS = 2  # liao_mnist's


def _filter_gradient_primitives_created(tmp_path, environ):
    """How often oneDNN was asked to create the filter-gradient primitive of each of liao_mnist's
    convolutions at the run's batch size, during a one-epoch run with oneDNN's kernels (whatever
    family this suite runs under): {problem: count}, from one line per creation in its log. (The
    kernel probe may add problems of other batch sizes: left out.)"""
    env = {key: value for key, value in os.environ.items() if key != ENV}
    env.update(environ, TF_ENABLE_ONEDNN_OPTS="1", ONEDNN_VERBOSE="2")  # 2: creations too
    done = subprocess.run([sys.executable, *RUN, "--output_dir", str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    log = [line for line in done.stdout.splitlines() if line.startswith("onednn_verbose")]
    if not any(",exec," in line for line in log):
        pytest.skip("this TensorFlow build runs no oneDNN primitives")
    counts = collections.Counter(line.split(",")[-2] for line in log
                                 if ",primitive,create" in line and ",backward_weights," in line)
    return {problem: count for problem, count in counts.items() if problem.startswith("mb8_")}


def test_a_run_builds_each_convolution_gradient_once_not_every_step(tmp_path):
    kept = _filter_gradient_primitives_created(tmp_path / "kept", {})
    rebuilt = _filter_gradient_primitives_created(tmp_path / "rebuilt", {ENV: "true"})  # the user's choice wins
    assert len(kept) == len(rebuilt) == CONVOLUTIONS, (kept, rebuilt)
    assert all(count >= STEPS for count in rebuilt.values()), rebuilt  # TensorFlow's default: every step
    assert all(count <= 2 for count in kept.values()), kept  # once (per thread that runs it)


def test_the_environment_decides_when_it_says():
    environ = {}
    assert keep_onednn_primitives(environ).endswith(f"({ENV}=false)") and environ == {ENV: "false"}
    for value in ("true", "TRUE", "1"):
        assert "rebuilt every step" in keep_onednn_primitives({ENV: value})
    for value in ("false", "0"):
        assert "kept between steps" in keep_onednn_primitives({ENV: value})


def test_a_value_tensorflow_cannot_read_stops_the_run_before_it_starts(tmp_path):
    # TensorFlow itself would abort the process at the first convolution, mid-run.
    result = CliRunner().invoke(main, ["--epochs", "1", "--output_dir", str(tmp_path)], env={ENV: "yes"})
    assert result.exit_code == 2
    assert f"{ENV}='yes' is not one of: true, false, 1, 0" in result.output
    assert not any(tmp_path.iterdir())
