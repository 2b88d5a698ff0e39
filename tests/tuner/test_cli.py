"""The command line: exit codes, messages, the default process pool, `python tuner.py`."""
import json
import os
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from tests.tuner.conftest import REPO, runs_line
from tuner.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_with_the_local_process_pool_then_resume(tmp_path, fake_prefix):
    out = str(tmp_path / "sweep")
    args = ["run", "--prefix", fake_prefix, "--grid", "learning_rate=0.05,0.1",
            "--grid", "batch_size=10,20", "--grid", "epochs=1", "--jobs", "2", "--output", out]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert runs_line(result.output) == "runs: 4 total, 4 completed now, 0 skipped (already complete), 0 failed"
    assert sum(line.startswith("[") for line in result.output.splitlines()) == 4  # a line per run

    victim = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)) and not d.startswith('.'))[1]
    with open(os.path.join(out, victim, "result.json"), "r+") as handle:
        handle.truncate(10)
    result = invoke(*args)
    assert result.exit_code == 0
    assert runs_line(result.output) == "runs: 4 total, 1 completed now, 3 skipped (already complete), 0 failed"


def test_grid_file_and_summary_command(tmp_path, fake_prefix):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"prefix": fake_prefix, "grid": {"mode": ["ok", "crash"], "learning_rate": [0.1]}}))
    out = str(tmp_path / "sweep")
    result = invoke("run", str(grid), "--output", out)
    assert result.exit_code == 1  # a run failed
    assert runs_line(result.output) == "runs: 2 total, 1 completed now, 0 skipped (already complete), 1 failed"
    os.remove(os.path.join(out, "summarise.csv"))
    result = invoke("summary", out)
    assert result.exit_code == 0
    assert "1. accuracy 94.00%" in result.output
    assert os.path.exists(os.path.join(out, "summarise.csv"))


def test_dry_run_prints_commands_and_runs_nothing(tmp_path):
    out = tmp_path / "sweep"
    result = invoke("run", "--grid", "type=BP,DFA", "--prefix", "python experiment.py", "--output", str(out),
                    "--dry_run")
    assert result.exit_code == 0
    assert "python experiment.py --type DFA" in result.output
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["run"], "no grid"),
    (["run", "--grid", "type"], "expected KEY=V1,V2"),
    (["run", "--grid", "type=BP,"], "empty value"),
    (["run", "--grid", "output_dir=x"], "set by the tuner"),
    (["run", "--grid", "type=BP", "--grid", "type=DFA"], "given twice"),
    (["run", "nope.json"], "cannot read grid file"),
    (["run", "--grid", "type=BP", "--prefix", ""], "empty"),
    (["run", "--grid", "type=BP", "--prefix", "no-such-program-xyz run.py"], "not an executable"),
    (["run", "--grid", "type=BP", "--jobs", "0"], "--jobs"),
    (["run", "--grid", "type=BP", "--executor", "slurm"], "'slurm' is not one of"),
    (["run", "--grid", "type=BP", "--executor", "dask"], "needs --scheduler"),
    (["run", "--grid", "type=BP", "--scheduler", "tcp://h:1"], "only applies with --executor dask"),
    (["run", "--grid", "type=BP", "--executor", "dask", "--scheduler", "tcp://h:1", "--jobs", "2"],
     "--jobs only applies"),
    (["run", "--grid", "type=BP", "--timeout", "0"], "--timeout"),
    (["summary", "no-such-dir"], "does not exist"),
    (["run", "--grid", "learning_reate=0.1"], "Invalid value for --grid: grid key 'learning_reate' is not a "
                                              "network-dict key (did you mean 'learning_rate'?)"),
    (["run", "--grid", "epochs=1", "--prefix", "python experiment.py --epochs 2"], "also set by the prefix"),
    (["run", "--grid", "epochs=1", "--prefix", "python experiment.py --resume x"], "must not contain --resume"),
])
def test_bad_input_exits_2_with_one_clear_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert os.listdir(tmp_path) == []  # nothing launched, not even the sweep directory


def test_an_unknown_key_in_a_grid_file_stops_the_sweep_before_it_starts(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"prefix": "python experiment.py", "grid": {"type": ["BP"], "epoch": [1]}}))
    result = CliRunner().invoke(main, ["run", str(grid), "--output", str(tmp_path / "sweep")])
    assert result.exit_code == 2
    (error,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Invalid value for GRID_FILE: grid key 'epoch'") and "'epochs'" in error
    assert not (tmp_path / "sweep").exists()


def multi_word_options():
    """(command, option) for every option of the tuner spelled with more than one word."""
    for command in main.commands.values():
        for param in command.params:
            if isinstance(param, click.Option) and any(re.search(r"\w[-_]\w", opt) for opt in param.opts):
                yield pytest.param(command, param, id=f"{command.name} {param.name}")


@pytest.mark.parametrize("command, option", list(multi_word_options()))
def test_every_multi_word_option_is_snake_case_first_and_takes_its_kebab_spelling(command, option):
    snake = option.opts[0]
    assert snake.startswith("--") and "-" not in snake[2:], option.opts  # the one help shows first
    kebab = "--" + snake[2:].replace("_", "-")
    assert kebab in option.opts
    words = [] if option.is_flag else [option.type.choices[0] if isinstance(option.type, click.Choice) else "1"]
    parsed = [command.make_context(command.name, [spelling, *words], resilient_parsing=True).params[option.name]
              for spelling in (snake, kebab)]
    assert parsed[0] == parsed[1] and parsed[0] not in (None, False)


def test_the_tuner_has_multi_word_options():
    assert {param.values[1].name for param in multi_word_options()} >= {"retry_failed", "dry_run"}


def test_summary_of_a_directory_without_runs(tmp_path):
    result = CliRunner().invoke(main, ["summary", str(tmp_path)])
    assert result.exit_code == 2 and "no runs in" in result.output


def test_every_option_has_help():
    for command in main.commands.values():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{command.name} {param.name} has no help text"


def test_tuner_py_is_the_same_command():
    result = subprocess.run([sys.executable, "tuner.py", "run", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--retry_failed, --retry-failed" in result.stdout and "--executor [local|dask]" in result.stdout


def test_a_second_tuner_on_the_same_sweep_is_refused(tmp_path, fake_prefix):
    from tuner.state import lock_sweep

    out = tmp_path / "sweep"
    out.mkdir()
    with lock_sweep(str(out)):  # stands for a tuner that is still running
        result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", str(out)])
    assert result.exit_code == 2 and "another tuner is running" in result.output
    assert f"{out} is in use by pid {os.getpid()}" in result.output  # the lock names its holder
    result = invoke("run", "--prefix", fake_prefix, "--grid", "mode=ok", "--output", str(out))
    assert result.exit_code == 0  # released: the next one runs


def test_dask_not_installed_is_a_clear_error(monkeypatch, fake_prefix):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    result = CliRunner().invoke(main, ["run", "--prefix", fake_prefix, "--grid", "mode=ok",
                                       "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "pip install -e '.[dask]'" in result.output
