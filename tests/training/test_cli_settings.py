"""Every way of setting a key reaches the run: options, --set, both at once (if they agree)."""
import json

import pytest
from click.testing import CliRunner

from training.cli import main

# A run of a few milliseconds: the checks read config.json, which is written before training.
SMALL = ["--dataset_name", "synthetic", "--sequence", "fcReLu", "--set", "synthetic_shape=[6]",
         "--set", "synthetic_size=120", "--set", "synthetic_classes=3", "--epochs", "1"]


def invoke(tmp_path, *args):
    return CliRunner().invoke(main, [*SMALL, *args, "--output_dir", str(tmp_path), "--id", "run"])


def config(tmp_path):
    return json.loads((tmp_path / "run" / "config.json").read_text())


def test_set_takes_effect_for_keys_that_also_have_an_option(tmp_path):
    # Once, the options left out (None) overwrote these --set values with the network dict's.
    result = invoke(tmp_path, "--set", "learning_rate=0.05", "--set", "batch_size=40", "--set", "momentum=0.5",
                    "--set", "optimizer=momentum", "--set", "cost_function=mean_squared_error")
    assert result.exit_code == 0, result.output
    written = config(tmp_path)
    assert (written["learning_rate"], written["batch_size"], written["momentum"], written["optimizer"],
            written["cost_function"]) == (0.05, 40, 0.5, "momentum", "mean_squared_error")
    assert json.loads((tmp_path / "run" / "result.json").read_text())["iterations"] == 3  # 120 / 40


def test_set_null_takes_effect(tmp_path):
    # default_network fixes seed 1 and eval_period 1000; null must not read as "not given".
    result = invoke(tmp_path, "--set", "seed=null", "--set", "eval_period=0")
    assert result.exit_code == 0, result.output
    written = config(tmp_path)
    assert written["eval_period"] == 0
    assert written["seed"] != 1  # picked at random (1 in 10^8 to be 1 again)


@pytest.mark.parametrize("args, named", [
    (["--learning_rate", "0.1", "--set", "learning_rate=0.5"], ["--learning_rate 0.1", "--set learning_rate=0.5"]),
    (["--batch_size", "20", "--set", "batch_size=30"], ["--batch_size 20", "--set batch_size=30"]),
    (["--set", "momentum=0.1", "--set", "momentum=0.2"], ["--set momentum=0.1", "--set momentum=0.2"]),
    (["--gather_stats", "false", "--set", "gather_stats=true"], ["--gather_stats false", "--set gather_stats=true"]),
])
def test_different_values_for_one_key_are_a_conflict(tmp_path, args, named):
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2, result.output
    error = result.output.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("Error: ") and all(part in error[0] for part in named)
    assert not any(tmp_path.iterdir())


def test_the_same_value_twice_is_fine(tmp_path):
    result = invoke(tmp_path, "--learning_rate", "0.5", "--set", "learning_rate=5e-1", "--set", "learning_rate=0.5",
                    "--type", "dfa", "--set", "type=DFA", "--memory_only", "no", "--set", "memory_only=false")
    assert result.exit_code == 0, result.output
    assert (config(tmp_path)["learning_rate"], config(tmp_path)["type"]) == (0.5, "DFA")


def test_the_name_is_chosen_with_name_not_set(tmp_path):
    result = invoke(tmp_path, "--set", "name=../../elsewhere")
    assert result.exit_code == 2
    assert result.output.startswith("Error: --set name=../../elsewhere: the network dict is chosen with --name")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("given", [["--checkpoint_plan", "(1|1)|1"], ["--set", "checkpoint_plan=(1|1)|1"]],
                         ids=["option", "set"])
def test_a_checkpoint_plan_reaches_the_step(tmp_path, given):
    result = invoke(tmp_path, "--type", "BPCKPT", "--memory_only", "true", *given)
    assert result.exit_code == 0, result.output
    assert config(tmp_path)["checkpoint_plan"] == "(1|1)|1"
    nodes = (tmp_path / "run" / "memory" / "nodes.csv").read_text()
    assert "recompute/segment_0/recompute/segment_0/forward/block_0/" in nodes  # the nested recomputation ran


def test_a_grid_of_plans_gives_commands_the_experiment_takes(tmp_path):
    from tuner.grid import expand, sgen
    for number, run in enumerate(expand("experiment", [sgen("checkpoint_plan", ["(1|1)|1", "1|2"])])):
        result = CliRunner().invoke(main, [*SMALL, "--type", "BPCKPT", *run.argv()[1:], "--output_dir", str(tmp_path),
                                           "--id", f"run_{number}"])
        assert result.exit_code == 0, result.output
        written = json.loads((tmp_path / f"run_{number}" / "config.json").read_text())
        assert written["checkpoint_plan"] == dict(run.params)["checkpoint_plan"]
