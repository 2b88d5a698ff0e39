"""`experiment plan`: its tables, budget, batch sweep, CSV, figure, verification and exit codes."""
import csv

import pytest
from click.testing import CliRunner

from definitions.config import TRAINING_TYPES, validate
from training.cli import main
from training.memory_model import memory_model

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

SMALL = ["--name", "default_network", "--dataset_name", "synthetic", "--set", "synthetic_shape=[6, 6, 1]",
         "--set", "synthetic_classes=4", "--batch_size", "16"]


def plan(*args):
    return CliRunner().invoke(main, ["plan", *SMALL, *args], catch_exceptions=False)


def small_model():
    config = validate({"sequence": "fcTanh", "dataset_name": "synthetic", "synthetic_shape": [6, 6, 1],
                       "synthetic_classes": 4, "batch_size": 16, "optimizer": "momentum", "name": "default_network"})
    return memory_model(config)


def rows_of(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_one_row_per_type_with_the_model_s_numbers(tmp_path):
    result = plan("--csv", str(tmp_path / "plan.csv"))
    assert result.exit_code == 0, result.output
    assert "default_network: sequence fcTanh" in result.output
    rows = rows_of(tmp_path / "plan.csv")
    assert [row["type"] for row in rows] == list(TRAINING_TYPES)
    assert {"network", "sequence", "type", "batch_size", "predicted_peak_bytes", "predicted_persistent_bytes",
            "predicted_total_bytes"} <= set(rows[0])
    model = small_model()
    for row in rows:
        prediction = model.predict(row["type"], 16)
        assert int(row["predicted_peak_bytes"]) == prediction.peak_bytes
        assert int(row["predicted_total_bytes"]) == prediction.total_bytes == \
            int(row["predicted_peak_bytes"]) + int(row["predicted_persistent_bytes"])
        assert row["type"] in result.output
        # The breakdowns add up: what is alive at the peak, and what the persistent bytes are.
        assert int(row["peak_activation_bytes"]) + int(row["peak_gradient_bytes"]) + \
            int(row["peak_input_bytes"]) + int(row["peak_update_bytes"]) == prediction.peak_bytes
        heads = 2 * (256 * 4 + 4) if row["type"] == "LOCAL" else 0  # LOCAL's auxiliary classifiers
        assert int(row["persistent_weight_bytes"]) == (36 * 256 + 256 + 256 * 256 + 256 + 256 * 4 + 4 + heads) * 4
    # FLOPs over BP's, in the table and the CSV: fcTanh's products per example are 36x256 (no input
    # gradient in BP), 256x256 and 256x4; DFA skips the input gradients, adds 256x4 projections.
    flops = {row["type"]: float(row["flop_ratio"]) for row in rows}
    forward, input_gradients, projections = 36 * 256 + 256 * 256 + 256 * 4, 256 * 256 + 256 * 4, 2 * 4 * 256
    assert flops["BP"] == flops["FA"] == 1.0
    assert flops["DFA"] == pytest.approx((2 * forward + projections) / (2 * forward + input_gradients), abs=1e-4)
    assert "FLOPs / BP" in result.output


def test_types_subset_in_any_case():
    result = plan("--types", "dfamem,BP")
    lines = [line.split()[0] for line in result.output.splitlines()[2:] if line.strip()]
    assert result.exit_code == 0 and lines == ["type", "DFAMEM", "BP"]


def test_budget_says_what_fits_and_the_largest_batch(tmp_path):
    model = small_model()
    budget = model.predict("DFAMEM", 16).total_bytes  # DFAMEM fits at 16, BP needs more
    assert model.predict("BP", 16).total_bytes > budget
    result = plan("--types", "BP,DFAMEM", "--budget", str(budget), "--csv", str(tmp_path / "b.csv"))
    assert result.exit_code == 0, result.output
    rows = {row["type"]: row for row in rows_of(tmp_path / "b.csv")}
    assert rows["DFAMEM"]["fits"] == "True" and rows["BP"]["fits"] == "False"
    for kind, row in rows.items():
        largest = int(row["largest_batch_size"])
        assert model.predict(kind, largest).total_bytes <= budget < model.predict(kind, largest + 1).total_bytes
    assert int(rows["DFAMEM"]["largest_batch_size"]) >= 16 > int(rows["BP"]["largest_batch_size"])


def test_a_budget_below_batch_one_says_so_per_type():
    result = plan("--types", "BP,DFA", "--budget", "1KiB")
    assert result.exit_code == 0
    assert result.output.count("none: batch 1 needs") == 2


def test_batch_sweep_table_and_figure(tmp_path):
    figure = tmp_path / "sweep.png"
    result = plan("--batch_sizes", "16,4,8", "--budget", "2MiB", "--png", str(figure), "--csv", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.output
    assert "batch 4" in result.output and "batch 16" in result.output
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 5000
    rows = rows_of(tmp_path / "s.csv")
    # Every type, and BPCKPT planned for the budget, at each batch size.
    assert sorted({int(row["batch_size"]) for row in rows}) == [4, 8, 16] and len(rows) == 3 * (len(TRAINING_TYPES) + 1)
    assert [row["batch_size"] for row in rows if row["planned_for_budget"] == "True"] == ["4", "8", "16"]
    assert "BPCKPT planned" in result.output


def test_verify_traces_each_row_and_reports_signed_errors(tmp_path):
    result = plan("--types", "BP,DFAMEM", "--verify", "--csv", str(tmp_path / "v.csv"))
    assert result.exit_code == 0, result.output
    for row in rows_of(tmp_path / "v.csv"):
        measured = int(row["measured_peak_bytes"]) + int(row["measured_persistent_bytes"])
        assert float(row["total_relative_error"]) == pytest.approx(int(row["predicted_total_bytes"]) / measured - 1,
                                                                   abs=1e-4)
        assert int(row["measured_persistent_bytes"]) == int(row["predicted_persistent_bytes"])
        assert abs(float(row["peak_relative_error"])) < 0.05  # ordered types, a small MLP
    assert "measured peak" in result.output


def test_verify_pepita_and_local_within_a_few_percent(tmp_path):
    """Their orders (planning/algorithms.py) against the tracer on a small MLP."""
    result = plan("--types", "PEPITA,LOCAL", "--verify", "--csv", str(tmp_path / "v.csv"))
    assert result.exit_code == 0, result.output
    for row in rows_of(tmp_path / "v.csv"):
        assert int(row["measured_persistent_bytes"]) == int(row["predicted_persistent_bytes"]), row["type"]
        assert abs(float(row["peak_relative_error"])) < 0.03 and abs(float(row["total_relative_error"])) < 0.03, row


def test_a_type_not_defined_on_the_network_is_left_out_with_its_reason():
    conv = ["--sequence", "liao_mnist"]  # SMALL's 6x6 images
    result = plan(*conv, "--types", "BP,PEPITA")
    assert result.exit_code == 0, result.output
    types = [line.split()[0] for line in result.output.splitlines()[2:] if line.strip()]
    assert "BP" in types and "PEPITA" not in types[:types.index("BP") + 1]
    assert "PEPITA left out: PEPITA is defined for dense layers" in result.output
    alone = CliRunner().invoke(main, ["plan", *SMALL, *conv, "--types", "PEPITA"])
    assert alone.exit_code == 2 and alone.stderr.strip().splitlines() == [
        "Error: PEPITA is defined for dense layers each followed by element-wise activations (Dellaferrera & "
        "Kreiman 2022), but block_0 has ConvolutionalLayer: use a sequence of FullyConnected and "
        "Sigmoid/Tanh/ReLu/LeakyReLu/GELU layers"]


def test_network_options_and_set_reach_the_plan(tmp_path):
    result = plan("--set", "optimizer=adam", "--csv", str(tmp_path / "a.csv"))
    adam = {row["type"]: int(row["predicted_persistent_bytes"]) for row in rows_of(tmp_path / "a.csv")}
    plan("--csv", str(tmp_path / "m.csv"))
    momentum = {row["type"]: int(row["predicted_persistent_bytes"]) for row in rows_of(tmp_path / "m.csv")}
    assert result.exit_code == 0 and all(adam[kind] > momentum[kind] for kind in adam)  # two slots per weight
    conflict = plan("--batch_size", "32", "--set", "batch_size=8")
    assert conflict.exit_code == 2 and "disagree" in conflict.output


@pytest.mark.parametrize("args,message", [
    (["--budget", "lots"], "--budget must be a size"),
    (["--budget", "0"], "--budget must be at least one byte"),
    (["--budget", "-1GiB"], "--budget must be"),
    (["--batch_sizes", "0,4"], "--batch_sizes must be positive"),
    (["--batch_sizes", "four"], "--batch_sizes must be positive integers"),
    (["--types", "DFAX"], "did you mean 'DFA'"),
    (["--types", ","], "--types needs"),
    (["--png", "x.png"], "give --batch_sizes"),
    (["--sequence", "resnet_9"], "unknown sequence"),
])
def test_bad_input_is_one_error_line_and_exit_2(args, message):
    result = CliRunner().invoke(main, ["plan", *SMALL, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


LONG = ["--name", "default_network", "--dataset_name", "synthetic", "--sequence", "long_fc",
        "--set", "synthetic_shape=[64]", "--batch_size", "64", "--optimizer", "momentum"]


def test_budget_lists_bpckpt_planned_for_it_beside_the_types(tmp_path):
    from planning.budget_plan import BudgetPlanner
    config = validate({"sequence": "long_fc", "dataset_name": "synthetic", "synthetic_shape": [64], "batch_size": 64,
                       "optimizer": "momentum", "name": "default_network"})
    planner = BudgetPlanner(memory_model(config), 64)
    uniform_total = planner.model.predict("BPCKPT", 64).total_bytes
    budget = uniform_total + 400_000  # room for a faster plan than the uniform one
    result = CliRunner().invoke(main, ["plan", *LONG, "--types", "BPCKPT,DFAMEM", "--budget", str(budget),
                                       "--csv", str(tmp_path / "plan.csv")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    expected = planner.plan(budget)
    assert f"BPCKPT planned, batch 64: plan {expected.plan} (" in result.output
    rows = rows_of(tmp_path / "plan.csv")
    assert [(row["type"], row["planned_for_budget"]) for row in rows] == \
        [("BPCKPT", "False"), ("BPCKPT", "True"), ("DFAMEM", "False")]
    planned, uniform = rows[1], rows[0]
    assert planned["checkpoint_plan"] == str(expected.plan)
    assert int(planned["predicted_total_bytes"]) == expected.prediction.total_bytes <= budget
    # Faster than the uniform plan, which also fits: less recomputation.
    assert float(planned["recompute_fraction"]) < float(uniform["recompute_fraction"])
    assert 1.0 < float(planned["flop_ratio"]) < float(uniform["flop_ratio"])
    assert uniform["checkpoint_plan"] == "4|4|4|4|4"


def test_a_budget_no_plan_meets_says_the_smallest_and_has_no_figures(tmp_path):
    result = CliRunner().invoke(main, ["plan", *LONG, "--types", "BPCKPT", "--budget", "30MiB",
                                       "--csv", str(tmp_path / "plan.csv")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "BPCKPT planned, batch 64: no checkpointing plan fits a memory budget of 30.0 MiB" in result.output
    planned = rows_of(tmp_path / "plan.csv")[1]
    assert planned["fits"] == "False" and planned["predicted_total_bytes"] == "" and planned["checkpoint_plan"] == ""


def test_memory_budget_is_the_plan_s_budget_too_and_must_agree_with_budget():
    given = CliRunner().invoke(main, ["plan", *LONG, "--types", "BPCKPT", "--memory_budget", "37MiB"],
                               catch_exceptions=False)
    assert given.exit_code == 0 and "budget 37.0 MiB (38797312 bytes)" in given.output
    both = CliRunner().invoke(main, ["plan", *LONG, "--memory_budget", "37MiB", "--budget", "38MiB"])
    assert both.exit_code == 2 and "disagree" in both.output
