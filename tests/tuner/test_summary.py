import csv
import io
import json
import os

from tuner import state
from tuner.summary import best_table, collect, to_csv, write_summary


def make_run(sweep, run_id, params, **result):
    directory = sweep / run_id
    directory.mkdir(parents=True)
    state.write_run_spec(str(directory), run_id, "cmd", params)
    if result:
        record = {"run_id": run_id, "command": "cmd", "params": params, "exit_code": 0,
                  "status": "completed", "reason": None, "accuracy": None, "loss": None,
                  "iterations": None, "duration_s": 1.0, "started_at": "t0", "finished_at": "t1"}
        record.update(result)
        state.write_result(str(directory), record, "", "")
    return directory


def test_csv_has_a_column_per_parameter_and_puts_the_best_first(tmp_path):
    make_run(tmp_path, "a", {"type": "BP", "learning_rate": "0.1"}, accuracy=90.0, loss=0.3, iterations=10)
    make_run(tmp_path, "b", {"type": "DFA", "learning_rate": "0.1"}, accuracy=95.5, loss=0.2, iterations=10)
    make_run(tmp_path, "c", {"type": "DFA", "learning_rate": "1.0"}, status="failed", exit_code=3,
             reason="diverged")
    make_run(tmp_path, "d", {"type": "BP", "learning_rate": "1.0"})  # never finished
    bad = make_run(tmp_path, "e", {"type": "BP", "learning_rate": "0.5"})
    (bad / "result.json").write_text("{trunc")

    path, rows = write_summary(str(tmp_path), param_order=["type", "learning_rate"])
    table = list(csv.DictReader(open(path)))
    assert list(table[0]) == ["run_id", "type", "learning_rate", "status", "reason", "accuracy", "loss",
                              "iterations", "duration_s", "exit_code", "resumed", "peak_bytes", "persistent_bytes",
                              "total_bytes", "step_s"]
    assert [(r["run_id"], r["status"]) for r in table] == [
        ("b", "completed"), ("a", "completed"), ("c", "failed"), ("e", "corrupt"), ("d", "pending")]
    assert table[0]["accuracy"] == "95.5" and table[0]["type"] == "DFA"
    assert table[2]["reason"] == "diverged" and table[2]["accuracy"] == ""
    assert (bad / "result.json").read_text() == "{trunc"  # the summary only reads
    lines = best_table(rows)
    assert lines[0] == "5 runs: 2 completed, 1 failed, 1 corrupt, 1 pending"
    assert lines[2].startswith("  1. accuracy 95.50%")


def test_parameter_named_like_a_result_column_does_not_overwrite_it(tmp_path):
    make_run(tmp_path, "a", {"status": "x"}, accuracy=90.0, loss=0.3, iterations=10)
    header = next(csv.reader(io.StringIO(to_csv(collect(str(tmp_path))))))
    assert header == ["run_id", "param:status", "status", "reason", "accuracy", "loss", "iterations",
                      "duration_s", "exit_code", "resumed", "peak_bytes", "persistent_bytes", "total_bytes", "step_s"]


def test_summary_rewrite_is_atomic_and_ignores_stray_files(tmp_path):
    make_run(tmp_path, "a", {"lr": "0.1"}, accuracy=90.0, loss=0.3, iterations=10)
    (tmp_path / "notes.txt").write_text("hello")
    write_summary(str(tmp_path))
    write_summary(str(tmp_path))
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []
    assert len(open(tmp_path / "summarise.csv").read().splitlines()) == 2
    assert json.load(open(tmp_path / "a" / "result.json"))["accuracy"] == 90.0


def test_columns_follow_the_grid_order_the_runs_recorded_and_resumed_runs_are_marked(tmp_path):
    # What `tuner summary` reads back: no order passed, the one run.json kept (JSON objects are sorted).
    grid_order = {"type": "BP", "learning_rate": "0.1", "batch_size": "10"}
    make_run(tmp_path, "a", grid_order, accuracy=90.0, loss=0.3, iterations=10, resumed_from_epoch=2,
             resumed_from_step=None, resumed_from_iteration=800)
    make_run(tmp_path, "b", dict(grid_order, type="DFA"), accuracy=80.0, loss=0.4, iterations=10)
    make_run(tmp_path, "c", dict(grid_order, type="FA"))  # pending
    path, rows = write_summary(str(tmp_path))
    table = list(csv.DictReader(open(path)))
    assert list(table[0])[:4] == ["run_id", "type", "learning_rate", "batch_size"]
    assert [(row["run_id"], row["resumed"]) for row in table] == [("a", "true"), ("b", "false"), ("c", "")]
    assert best_table(rows)[2].endswith("type=BP learning_rate=0.1 batch_size=10")
