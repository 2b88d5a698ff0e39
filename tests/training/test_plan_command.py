"""`experiment plan`: its tables, budget, batch sweep, CSV, figure, verification and exit codes."""
import csv

import pytest
from click.testing import CliRunner

from definitions.config import TRAINING_TYPES, validate
from training.cli import main
from training.memory_model import memory_model

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
            int(row["peak_input_bytes"]) == prediction.peak_bytes
        assert int(row["persistent_weight_bytes"]) == (36 * 256 + 256 + 256 * 256 + 256 + 256 * 4 + 4) * 4


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
    assert sorted({int(row["batch_size"]) for row in rows}) == [4, 8, 16] and len(rows) == 3 * len(TRAINING_TYPES)


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
    (["--budget", "0"], "--budget must be positive"),
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
