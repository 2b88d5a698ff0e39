import json
import os

import pytest

from tuner import state


def result(run_id="r1", **overrides):
    base = {"run_id": run_id, "command": "python e.py --output_dir x", "params": {"lr": "0.1"},
            "exit_code": 0, "status": "completed", "reason": None, "detail": None,
            "accuracy": 97.2, "loss": 0.12, "iterations": 144, "duration_s": 1.5,
            "started_at": "2024-01-01T00:00:00+00:00", "finished_at": "2024-01-01T00:00:02+00:00"}
    base.update(overrides)
    return base


def test_result_round_trip(tmp_path):
    state.write_result(tmp_path, result(), "out\n", "err\n")
    check = state.read_result(tmp_path, "r1")
    assert check.kind == "valid" and check.result == result()
    assert (tmp_path / "stdout.log").read_text() == "out\n"
    assert (tmp_path / "stderr.log").read_text() == "err\n"


def test_a_crash_during_the_write_leaves_the_old_result(tmp_path, monkeypatch):
    state.write_result(tmp_path, result(accuracy=50.0), "", "")

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        state.write_result(tmp_path, result(accuracy=99.0), "", "")
    monkeypatch.undo()
    assert state.read_result(tmp_path, "r1").result["accuracy"] == 50.0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_invalid_results_are_refused_on_write(tmp_path):
    with pytest.raises(ValueError, match="status"):
        state.write_result(tmp_path, result(status="done"), "", "")
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize("content, problem", [
    (b"", "empty"),
    (json.dumps(result()).encode()[:40], "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"[]", "not a JSON object"),
    (json.dumps({"run_id": "r1"}).encode(), "missing field"),
    (json.dumps(result(run_id="other")).encode(), "does not match"),
    (json.dumps(result(exit_code="0")).encode(), "wrong type"),
    (json.dumps(result(exit_code=True)).encode(), "wrong type"),
    (json.dumps(result(exit_code=1)).encode(), "status completed without"),
    (json.dumps(result(status="running")).encode(), "not completed or failed"),
])
def test_corrupted_results_are_detected(tmp_path, content, problem):
    (tmp_path / "result.json").write_bytes(content)
    check = state.read_result(tmp_path, "r1")
    assert check.kind == "invalid"
    assert problem in check.problem


def test_missing_result(tmp_path):
    assert state.read_result(tmp_path, "r1").kind == "missing"


def test_move_aside_keeps_the_bytes_under_a_new_name(tmp_path):
    (tmp_path / "result.json").write_bytes(b"{trunc")
    first = state.move_aside(tmp_path)
    (tmp_path / "result.json").write_bytes(b"{again")
    second = state.move_aside(tmp_path)
    assert os.path.basename(first).startswith("result.json.corrupt-")
    assert first != second
    assert open(first, "rb").read() == b"{trunc" and open(second, "rb").read() == b"{again"
    assert not (tmp_path / "result.json").exists()


def test_run_spec_and_stale_temp_files(tmp_path):
    (tmp_path / ".result.json.abc.tmp").write_text("half")
    state.write_run_spec(str(tmp_path), "r1", "python e.py --lr 0.1 --b 2", {"lr": "0.1", "b": "2"})
    assert (tmp_path / "command.txt").read_text() == "python e.py --lr 0.1 --b 2\n"
    assert state.read_run_spec(tmp_path) == {"run_id": "r1", "command": "python e.py --lr 0.1 --b 2",
                                             "params": {"lr": "0.1", "b": "2"}, "param_order": ["lr", "b"]}
    assert not (tmp_path / ".result.json.abc.tmp").exists()


def test_find_run_dirs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.json").write_text("{}")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "result.json").write_text("{}")
    (tmp_path / "not_a_run").mkdir()
    (tmp_path / "summarise.csv").write_text("")
    assert [os.path.basename(d) for d in state.find_run_dirs(tmp_path)] == ["a", "b"]
    assert state.find_run_dirs(tmp_path / "nope") == []


def test_the_resume_point_is_optional_but_typed(tmp_path):
    state.write_result(tmp_path, result(resumed_from_epoch=2, resumed_from_step=None, resumed_from_iteration=800),
                       "", "")
    assert state.read_result(tmp_path, "r1").result["resumed_from_epoch"] == 2
    assert state.validate(result(resumed_from_epoch="2")) == "field 'resumed_from_epoch' has the wrong type (str)"
    assert state.validate(result()) is None  # results written before the field existed


def test_logs_the_worker_wrote_are_kept_and_others_completed(tmp_path):
    # The worker's live log (this machine) already ends with this attempt's output: kept as it is.
    (tmp_path / "stdout.log").write_text("attempt 1\nattempt 2\n")
    state.write_result(tmp_path, result(), "attempt 2\n", "", resumed=True)
    assert (tmp_path / "stdout.log").read_text() == "attempt 1\nattempt 2\n"
    # A worker elsewhere: a resumed attempt follows the earlier output, a fresh one replaces it.
    state.write_result(tmp_path, result(), "attempt 3\n", "", resumed=True)
    assert (tmp_path / "stdout.log").read_text() == "attempt 1\nattempt 2\nattempt 3\n"
    state.write_result(tmp_path, result(), "afresh\n", "", resumed=False)
    assert (tmp_path / "stdout.log").read_text() == "afresh\n"
    state.write_result(tmp_path, result(), "", "", resumed=False)
    assert (tmp_path / "stdout.log").read_text() == ""
