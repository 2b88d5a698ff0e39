"""summarise.csv's memory and step-time columns, memory-only sweeps ranked by memory, and
`tuner summary --group_by seed` (issue "A researcher's day", items 11 and 13)."""
import csv
import json
import statistics

from click.testing import CliRunner

from tests.tracing import handmade_step as step
from tests.tuner.test_summary import make_run
from tracing.records import AllocationRecord
from tracing.report import write_memory_report
from tuner.cli import main
from tuner.summary import collect


def _experiment(run_dir, status, records=None, persistent=0, train_seconds=None, iterations=None):
    experiment = run_dir / "default_network_BP_001"
    experiment.mkdir()
    (experiment / "config.json").write_text("{}")
    (experiment / "result.json").write_text(json.dumps({"status": status, "train_seconds": train_seconds,
                                                        "iterations": iterations}))
    if records is not None:
        write_memory_report(records, experiment / "memory", meta={"network": "mlp", "algorithm": "BP"},
                            persistent_bytes=persistent)


def _scaled(factor):
    return [AllocationRecord(r.time_us, r.delta_bytes * factor, r.op_name, r.device, r.allocator)
            for r in step.records()]


def test_a_memory_only_sweep_has_memory_columns_and_is_ranked_by_memory(tmp_path):
    # handmade_step's peak is 404 bytes; accuracy of a memory-only run is meaningless.
    for run_id, factor, accuracy in (("big", 3, 90.0), ("small", 1, 10.0), ("mid", 2, 50.0)):
        run_dir = make_run(tmp_path, run_id, {"type": run_id}, accuracy=accuracy, loss=1.0, iterations=4)
        _experiment(run_dir, "memory_only", _scaled(factor), persistent=100)
    rows = collect(str(tmp_path))
    assert [row["run_id"] for row in rows] == ["small", "mid", "big"]
    assert [(row["peak_bytes"], row["total_bytes"]) for row in rows] == [(404, 504), (808, 908), (1212, 1312)]
    result = CliRunner().invoke(main, ["summary", str(tmp_path)])
    assert result.exit_code == 0 and "by memory" in result.output
    table = list(csv.DictReader(open(tmp_path / "summarise.csv")))
    assert table[0]["persistent_bytes"] == "100" and table[0]["total_bytes"] == "504"


def test_a_training_sweep_has_step_time_and_stays_ranked_by_accuracy(tmp_path):
    for run_id, accuracy in (("a", 80.0), ("b", 90.0)):
        run_dir = make_run(tmp_path, run_id, {"type": run_id}, accuracy=accuracy, loss=1.0, iterations=10)
        _experiment(run_dir, "completed", train_seconds=5.0, iterations=10)
    rows = collect(str(tmp_path))
    assert [row["run_id"] for row in rows] == ["b", "a"]
    assert rows[0]["step_s"] == 0.5 and rows[0]["peak_bytes"] is None


def test_group_by_seed_gives_mean_and_standard_deviation_over_seeds(tmp_path):
    accuracies = {"BP": [90.0, 92.0, 94.0], "DFA": [80.0, 85.0]}
    for kind, values in accuracies.items():
        for seed, accuracy in enumerate(values):
            make_run(tmp_path, f"{kind}_{seed}", {"type": kind, "seed": str(seed)}, accuracy=accuracy, loss=0.1,
                     iterations=1)
    result = CliRunner().invoke(main, ["summary", str(tmp_path), "--group_by", "seed"])
    assert result.exit_code == 0, result.output
    table = {row["type"]: row for row in csv.DictReader(open(tmp_path / "summarise_by_seed.csv"))}
    for kind, values in accuracies.items():
        assert float(table[kind]["accuracy_mean"]) == statistics.fmean(values)
        assert abs(float(table[kind]["accuracy_std"]) - statistics.stdev(values)) < 1e-6
        assert table[kind]["runs"] == str(len(values))


def test_group_by_an_unknown_key_is_one_error_line(tmp_path):
    make_run(tmp_path, "a", {"type": "BP", "seed": "1"}, accuracy=90.0, loss=0.1, iterations=1)
    result = CliRunner().invoke(main, ["summary", str(tmp_path), "--group_by", "sed"])
    assert result.exit_code == 2 and "'seed'" in result.output and len(result.output.strip().splitlines()) == 1
