"""`experiment trace SPEC`: a Keras model on the digits traced per op, its run beside the project's
own in `experiment compare`, and every bad SPEC one `Error:` line with nothing written."""
import json

import pytest
from click.testing import CliRunner

from tests.tracing.report_checks import ISSUE_NODE_COLUMNS, read_csv
from training.cli import main

pytestmark = pytest.mark.kernels  # traced figures

SPEC_FILE = '''
import numpy as np
import keras
import tensorflow as tf

def uncompiled():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), (np.ones((2, 4)), np.ones(2))

def a_number():
    return 3

def sgd_step():
    w = tf.Variable(tf.ones((6, 3)))
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.relu(x @ w))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss
    return step, (tf.ones((5, 6)),)
'''


def invoke(*args):
    return CliRunner().invoke(main, ["trace", *args], catch_exceptions=False)


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "steps.py"
    path.write_text(SPEC_FILE)
    return path


def test_a_keras_model_on_the_digits_is_traced_and_compared_with_a_converted_run(tmp_path):
    result = invoke("definitions.keras_examples:digits_trace", "--output_dir", str(tmp_path), "--id", "keras",
                    "--batch_size", "32", "--memory_steps", "2", "--memory_warmup", "1")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"results in {tmp_path / 'keras'}"
    memory = tmp_path / "keras" / "memory"
    summary = json.loads((memory / "summary.json").read_text())
    assert (summary["batch_size"], summary["traced_steps"], summary["algorithm"]) == (32, 2, "Keras Adam")
    rows = read_csv(memory / "nodes.csv", ISSUE_NODE_COLUMNS)
    assert {row["phase"] for row in rows} >= {"forward", "backward", "update"}
    assert summary["peak_bytes_by_phase"]["backward"] > 0 and summary["persistent_bytes"] > 0
    for name in ("timeline.txt", "timeline.png", "activations.csv", "trace.json"):
        assert (memory / name).is_file()
    # The same model converted and traced by the project's DFA, then both side by side.
    dfa = CliRunner().invoke(main, ["--sequence", "definitions.keras_examples:digits_convnet", "--type", "DFA",
                                    "--batch_size", "32", "--memory_only", "true", "--output_dir", str(tmp_path),
                                    "--id", "dfa"], catch_exceptions=False)
    assert dfa.exit_code == 0, dfa.output
    compared = CliRunner().invoke(main, ["compare", str(tmp_path / "keras"), str(tmp_path / "dfa"), "-o",
                                         str(tmp_path / "both.png"), "--trace", str(tmp_path / "both.json")])
    assert compared.exit_code == 0, compared.output
    assert "digits_convnet" in compared.output and (tmp_path / "both.json").is_file()


def test_a_tf_function_and_its_arguments(spec_file, tmp_path):
    result = invoke(f"{spec_file}:sgd_step", "--output_dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "sgd_step_trace_001" / "memory" / "nodes.csv", ISSUE_NODE_COLUMNS)
    by_name = {row["node_name"]: row for row in rows}
    # x @ w (5x3 floats) is kept for ReluGrad; the gradient of w is 6x3 floats.
    assert by_name["forward/matmul"]["bytes_allocated"] == str(5 * 3 * 4)
    assert by_name["backward/gradient_tape/matmul/MatMul"]["bytes_allocated"] == str(6 * 3 * 4)
    assert by_name["update/AssignSubVariableOp"]["category"] == "update"


@pytest.mark.parametrize("spec, message", [
    ("{dir}/missing.py:f", "no such file: {dir}/missing.py"),
    ("{file}:sgd_stp", "has no function 'sgd_stp' (did you mean 'sgd_step'?)"),
    ("{file}:a_number", "returned an int; it must return (compiled Keras model, (x, y)) or"),
    ("{file}:uncompiled", "returned a Keras model that is not compiled"),
    ("no_such_module_here:f", "no module named 'no_such_module_here'"),
    ("just_a_name", "is not 'path/to/file.py:function' or 'package.module:function'"),
])
def test_a_bad_spec_is_one_error_line_and_writes_nothing(spec, message, spec_file, tmp_path):
    out = tmp_path / "runs"
    spec = spec.format(dir=tmp_path, file=spec_file)
    result = CliRunner().invoke(main, ["trace", spec, "--output_dir", str(out)])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message.format(dir=tmp_path) in line, line
    assert not out.exists()


def test_batch_size_for_a_function_without_that_parameter_is_refused(spec_file, tmp_path):
    result = CliRunner().invoke(main, ["trace", f"{spec_file}:sgd_step", "--batch_size", "4",
                                       "--output_dir", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "takes no batch_size parameter" in result.output
