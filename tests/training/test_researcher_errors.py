"""Errors a newcomer hit that escaped as tracebacks or click's three lines (issue "A researcher's
day", items 1-6): each is now one `Error:` line with its documented exit code, before any work.

Real processes where the behaviour is the process's: a signal, an out-of-memory under `ulimit -v`.
"""
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from definitions.datasets import KNOWN, load_digits
from training.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIDE = """\
from layers import FullyConnected, Tanh


def wide(output_size):
    return [FullyConnected(16384, flatten=True), Tanh(), FullyConnected(output_size)]
"""


def one_error_line(result, code=2):
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.mark.parametrize("option", ["--csv", "--png"])
def test_plan_refuses_an_unwritable_output_before_any_work(tmp_path, option):
    blocker = tmp_path / "file"
    blocker.write_text("")
    # A path under a regular file can never be written, whoever runs the test (root included).
    args = ["plan", "--batch_sizes", "4", option, str(blocker / "out.x"), "--types", "BP"]
    started = time.perf_counter()
    line = one_error_line(CliRunner().invoke(main, args))
    assert option in line and "cannot be written" in line
    # Refused before the model is built: far less time than building it and its kernels.
    assert time.perf_counter() - started < 5


def test_compare_refuses_an_unwritable_output_before_reading_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_error_line(CliRunner().invoke(main, ["compare", str(tmp_path), "-o", str(blocker / "c.png")]))
    assert "--output" in line and "cannot be written" in line  # not "has no memory report"


@pytest.mark.parametrize("args, expected", [
    (["--learnig_rate", "0.1"], "--learning_rate"),
    (["--type", "MEMDFA"], "DFAMEM"),
    (["--definitions", "no_such_file.py"], "no_such_file.py"),
    (["plan", "--optimizer", "adamm"], "adam"),
])
def test_usage_errors_are_one_line_with_a_suggestion(args, expected):
    line = one_error_line(CliRunner().invoke(main, args))
    assert expected in line and "Usage:" not in line


def test_a_bad_boolean_lists_the_values_without_an_empty_one():
    line = one_error_line(CliRunner().invoke(main, ["--memory_only", "maybe"]))
    assert "0, 1," in line and ": ," not in line and ", ," not in line


def test_tuner_usage_errors_are_one_line():
    from tuner.cli import main as tuner_main
    line = one_error_line(CliRunner().invoke(tuner_main, ["run", "--no_such_option"]))
    assert "--no_such_option" in line


@pytest.mark.parametrize("args", [["plan", "--batch_size", "1438"], ["plan", "--batch_sizes", "4,1438"]])
def test_plan_refuses_a_batch_larger_than_the_training_set_as_a_run_does(args):
    line = one_error_line(CliRunner().invoke(main, args))
    assert "1437 training examples of digits" in line


def test_known_training_set_sizes_are_the_loaded_ones():
    # The sizes plan checks against without loading; digits is the one that loads offline.
    assert KNOWN["digits"].train_size == len(load_digits().x_train)


def test_a_failed_download_prints_nothing_on_stdout_and_says_why(tmp_path, monkeypatch, capsys):
    from definitions import datasets
    from definitions.errors import DatasetError
    # Port 9 (discard) on this machine: the connection is refused, the network is never reached.
    known = KNOWN["mnist"]
    monkeypatch.setitem(datasets.KNOWN, "mnist", known.__class__(
        known.name, known.input_shape, known.classes, known.load, ("mnist.npz", "http://127.0.0.1:9/mnist.npz",
                                                                   False), known.train_size))
    with pytest.raises(DatasetError) as raised:
        datasets.ensure_downloaded("mnist", str(tmp_path))
    assert capsys.readouterr().out == ""
    assert "(Exception)" not in str(raised.value) and "refused" in str(raised.value).lower()


def experiment_process(args, cwd, limit_kib=None, env=None):
    limit = f"ulimit -v {limit_kib}; " if limit_kib else ""
    command = limit + "exec " + " ".join([sys.executable, os.path.join(REPO, "experiment.py"), *args])
    return subprocess.Popen(["bash", "-c", command], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, **(env or {})))


def test_ctrl_c_during_plan_verify_exits_130(tmp_path):
    cache = tmp_path / "cache"
    process = experiment_process(["plan", "--verify", "--types", "BP,FA,DFA,DRTP", "--batch_size", "8"], tmp_path,
                                 env={"XDG_CACHE_HOME": str(cache)})
    try:
        # Work is under way once the first block's kernels are in the (fresh) cache.
        deadline = time.monotonic() + 240
        while not any(files for _, _, files in os.walk(cache)) and process.poll() is None:
            assert time.monotonic() < deadline, "plan never measured a block"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Aborted!" not in err


@pytest.fixture(scope="module")
def wide_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("wide")
    (directory / "wide.py").write_text(WIDE)
    return directory


# A step of `wide` at batch 32768 needs about 4 GiB; the limit leaves far less once TensorFlow is in.
WIDE_RUN = ["--definitions", "wide.py", "--sequence", "wide", "--dataset_name", "synthetic",
            "--set", "'synthetic_shape=[8]'", "--set", "synthetic_size=32768", "--batch_size", "32768",
            "--epochs", "1", "--output_dir", "runs"]
LIMIT_KIB = 3_500_000


def test_a_step_predicted_not_to_fit_is_refused_before_training(wide_file):
    process = experiment_process(WIDE_RUN, wide_file, LIMIT_KIB)
    out, err = process.communicate(timeout=300)
    lines = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert process.returncode == 2, err
    assert len(lines) == 1 and "predicted" in lines[0] and "ulimit -v" in lines[0], err
    assert "batch_size" in lines[0] and "memory_check=false" in lines[0]
    assert not (wide_file / "runs").exists()  # refused before the run directory exists


@pytest.mark.kernels
@pytest.mark.skipif(os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0",
                    reason="oneDNN's kernels crash (SIGSEGV) on a failed allocation instead of raising")
def test_an_out_of_memory_that_still_happens_is_one_line_exit_4_and_resumable(wide_file):
    process = experiment_process(WIDE_RUN + ["--set", "memory_check=false", "--id", "oom"], wide_file, LIMIT_KIB)
    out, err = process.communicate(timeout=300)
    lines = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert process.returncode == 4, err
    assert "Traceback" not in err and len(lines) == 1 and "out of memory" in lines[0]
    assert "experiment --resume runs/oom" in lines[0]
    assert (wide_file / "runs" / "oom" / "config.json").exists()


@pytest.mark.parametrize("args, key", [
    (["--type", "BP", "--set", "feedback=regenerate"], "feedback"),
    (["--optimizer", "sgd", "--momentum", "0.5"], "momentum"),
    (["--type", "DFA", "--set", "segment_size=2"], "segment_size"),
])
def test_a_setting_that_means_nothing_here_is_warned_once(args, key, tmp_path):
    result = CliRunner().invoke(main, [*args, "--epochs", "1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1 and repr(key) in warnings[0]


def test_meaningful_settings_are_not_warned(tmp_path):
    result = CliRunner().invoke(main, ["--type", "DFA", "--set", "feedback=regenerate", "--optimizer", "momentum",
                                       "--momentum", "0.5", "--epochs", "1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 0 and "Warning" not in result.output, result.output
