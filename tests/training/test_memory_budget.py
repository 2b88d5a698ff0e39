"""`memory_budget`: the run plans BPCKPT's checkpoints, prints and records the plan, and the traced
total stays within the budget; a budget no plan meets is bad input naming the smallest one."""
import json
import re

import pytest
from click.testing import CliRunner

from training.cli import main

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

# long_fc: 20 blocks (500 units), where the memory model is exact; batch 64.
LONG = ["--dataset_name", "synthetic", "--sequence", "long_fc", "--set", "synthetic_shape=[64]",
        "--set", "synthetic_size=256", "--set", "synthetic_classes=10", "--batch_size", "64", "--epochs", "1",
        "--optimizer", "momentum", "--type", "BPCKPT"]


def invoke(tmp_path, *args, run_id="run"):
    return CliRunner().invoke(main, [*LONG, *args, "--output_dir", str(tmp_path), "--id", run_id])


def smallest_budget(tmp_path):
    """The smallest feasible budget, as the error for a budget of one byte names it."""
    result = invoke(tmp_path, "--memory_budget", "1", run_id="too_small")
    assert result.exit_code == 2, result.output
    return int(re.search(r"exact gradients need at least [^(]+\((\d+) bytes\)", result.output).group(1))


@pytest.fixture(scope="module")
def boundary(tmp_path_factory):
    return smallest_budget(tmp_path_factory.mktemp("boundary"))


def test_a_budget_no_plan_meets_is_bad_input_naming_the_smallest(tmp_path, boundary):
    result = invoke(tmp_path, "--memory_budget", str(boundary - 1))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: no checkpointing plan fits a memory budget of")
    assert f"({boundary} bytes)" in lines[-1]
    assert "approximate gradients" in lines[-1] or "neither" in lines[-1]  # DFAMEM/DRTP named, never chosen
    assert not (tmp_path / "run").exists()  # nothing was written


@pytest.mark.parametrize("share", [0.0, 0.5], ids=["at_the_floor", "halfway"])
def test_the_traced_total_stays_within_the_budget(tmp_path, boundary, share):
    unplanned = invoke(tmp_path, "--memory_only", "true", "--checkpoint_plan", "20", run_id="bp_schedule")
    assert unplanned.exit_code == 0, unplanned.output
    top = _measured_total(tmp_path / "bp_schedule")
    assert "memory_budget_bytes" not in _summary(tmp_path / "bp_schedule")  # no budget: no budget line
    budget = int(boundary + share * (top - boundary))
    result = invoke(tmp_path, "--memory_only", "true", "--memory_budget", str(budget))
    assert result.exit_code == 0, result.output
    assert "BPCKPT plan" in result.output and "(planned;" in result.output
    assert re.search(r"measured total .* within the budget", result.output)
    measured = _measured_total(tmp_path / "run")
    assert measured <= budget
    assert _summary(tmp_path / "run")["memory_budget_bytes"] == budget  # timeline.png's budget line
    written = json.loads((tmp_path / "run" / "config.json").read_text())
    recorded = json.loads((tmp_path / "run" / "result.json").read_text())["memory_plan"]
    assert written["memory_budget"] == str(budget) and written["checkpoint_plan"] == recorded["checkpoint_plan"]
    assert recorded["budget_bytes"] == budget and recorded["predicted_total_bytes"] <= budget
    assert recorded["searched"] is True and recorded["recompute_fraction"] > 0
    if share == 0.0:
        assert recorded["checkpoint_plan"].startswith("(")  # the floor needs nested recomputation


def test_a_budget_above_the_need_gives_bp_s_schedule_and_set_reaches_the_run(tmp_path):
    result = invoke(tmp_path, "--set", "memory_budget=4GiB")
    assert result.exit_code == 0, result.output
    assert "no checkpoints (BP's schedule)" in result.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["checkpoint_plan"] == "20"


def test_a_given_plan_is_checked_against_the_budget_not_replaced(tmp_path, boundary):
    result = invoke(tmp_path, "--memory_budget", str(boundary), "--checkpoint_plan", "20")
    assert result.exit_code == 2
    assert "checkpoint plan 20 is predicted to need" in result.output
    fits = invoke(tmp_path, "--memory_budget", "4GiB", "--set", "segment_size=5", run_id="given")
    assert fits.exit_code == 0, fits.output
    assert "(given;" in fits.output
    assert json.loads((tmp_path / "given" / "config.json").read_text())["checkpoint_plan"] == "5|5|5|5"


@pytest.mark.parametrize("args, message", [
    (["--type", "DFAMEM", "--memory_budget", "1GiB"], "plans BPCKPT's recomputation, but type is DFAMEM"),
    (["--memory_budget", "lots"], "memory_budget"),
], ids=["other_type", "not_a_size"])
def test_bad_budgets_are_one_line_and_exit_2(tmp_path, args, message):
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def _summary(run_dir):
    return json.loads((run_dir / "memory" / "summary.json").read_text())


def _measured_total(run_dir):
    summary = _summary(run_dir)
    return summary["peak_bytes"] + summary["persistent_bytes"]


def test_a_traced_profile_ranks_the_plans_and_gives_the_overhead(tmp_path):
    """budget_profile: a memory_only run's blocks.csv, its measured block times in the plan line and record."""
    traced = invoke(tmp_path, "--memory_only", "true", "--type", "BP", run_id="profiled")
    assert traced.exit_code == 0, traced.output
    result = invoke(tmp_path, "--memory_budget", "4GiB", "--budget_profile", str(tmp_path / "profiled"))
    assert result.exit_code == 0, result.output
    blocks_csv = tmp_path / "profiled" / "memory" / "blocks.csv"
    assert f"(measured, {blocks_csv})" in result.output
    recorded = json.loads((tmp_path / "run" / "result.json").read_text())["memory_plan"]
    assert recorded["time_source"] == f"measured, {blocks_csv}"
    assert recorded["recompute_fraction"] == 0.0  # BP's schedule recomputes nothing
    assert json.loads((tmp_path / "run" / "config.json").read_text())["budget_profile"] == str(tmp_path / "profiled")


@pytest.mark.parametrize("args, message", [
    (["--budget_profile", "nowhere"], "budget_profile' gives the budget planner measured block times, but "
                                      "memory_budget is not set"),
    (["--memory_budget", "4GiB", "--budget_profile", "nowhere"], "no blocks.csv at 'nowhere'"),
], ids=["without_a_budget", "missing"])
def test_a_profile_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, args, message):
    result = invoke(tmp_path, *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
