"""The driver with a thread pool: fast, and the runner must accept any Executor."""
import concurrent.futures
import json
import os
import threading

import pytest

from tuner import state
from tuner.grid import expand, sgen
from tuner.resume import Resume
from tuner.runner import run_sweep


def grid(prefix, *extra):
    return expand(prefix, [sgen("learning_rate", ["0.05", "0.1"]), sgen("batch_size", ["10", "20"]), *extra])


def sweep(runs, out, jobs=2, **kwargs):
    lines, warnings = [], []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        counts = run_sweep(runs, out, pool, echo=lines.append, warn=warnings.append, **kwargs)
    return counts, lines, warnings


def ran_count(out, run):
    path = os.path.join(out, run.run_id, "ran.txt")
    return len(open(path).read().splitlines()) if os.path.exists(path) else 0


def test_resume_reruns_exactly_the_missing_and_the_corrupted(tmp_path, fake_prefix):
    out = str(tmp_path / "sweep")
    runs = grid(fake_prefix)
    counts, lines, _ = sweep(runs, out)
    assert lines[-1] == "runs: 4 total, 4 completed now, 0 skipped (already complete), 0 failed"
    assert counts.exit_code == 0

    deleted, truncated = runs[0], runs[3]
    os.remove(os.path.join(out, deleted.run_id, "result.json"))
    path = os.path.join(out, truncated.run_id, "result.json")
    content = open(path, "rb").read()
    open(path, "wb").write(content[: len(content) // 2])

    counts, lines, warnings = sweep(runs, out)
    assert lines[-1] == "runs: 4 total, 2 completed now, 2 skipped (already complete), 0 failed"
    assert [ran_count(out, run) for run in runs] == [2, 1, 1, 2]
    # The truncated file is kept under a new name and the user is told where.
    (aside,) = [name for name in os.listdir(os.path.join(out, truncated.run_id))
                if name.startswith("result.json.corrupt-")]
    assert any(truncated.run_id in w and aside in w and "moved" in w for w in warnings)
    assert open(os.path.join(out, truncated.run_id, aside), "rb").read() == content[: len(content) // 2]
    rows = open(os.path.join(out, "summarise.csv")).read().splitlines()
    assert len(rows) == 1 + 4

    counts, lines, _ = sweep(runs, out)
    assert lines[-1] == "runs: 4 total, 0 completed now, 4 skipped (already complete), 0 failed"


def test_result_files_and_the_added_output_dir(tmp_path, fake_prefix):
    out = tmp_path / "sweep"
    (run,) = expand(fake_prefix, [sgen("learning_rate", ["0.1"])])
    sweep([run], str(out))
    directory = out / run.run_id
    result = json.loads((directory / "result.json").read_text())
    assert result["status"] == "completed" and result["exit_code"] == 0
    assert (result["accuracy"], result["loss"], result["iterations"]) == (94.0, 0.9091, 100)
    assert result["params"] == {"learning_rate": "0.1"} and result["run_id"] == run.run_id
    assert result["command"].endswith(f"--learning_rate 0.1 --output_dir {directory}")
    assert (directory / "command.txt").read_text().strip() == result["command"]
    assert "total accuracy" in (directory / "stdout.log").read_text()
    assert {"started_at", "finished_at", "duration_s", "reason"} <= set(result)


def test_failed_runs_are_kept_until_retry_failed(tmp_path, fake_prefix):
    out = str(tmp_path / "sweep")
    runs = expand(fake_prefix, [sgen("mode", ["ok", "diverge", "badinput"])])
    counts, lines, _ = sweep(runs, out)
    assert lines[-1] == "runs: 3 total, 1 completed now, 0 skipped (already complete), 2 failed"
    assert counts.exit_code == 1
    reasons = {json.load(open(os.path.join(out, r.run_id, "result.json")))["reason"] for r in runs}
    assert reasons == {None, "diverged", "bad_input"}

    counts, lines, _ = sweep(runs, out)
    assert lines[-1] == "runs: 3 total, 0 completed now, 1 skipped (already complete), 2 failed"
    assert "--retry_failed" in lines[0]
    assert [ran_count(out, r) for r in runs] == [1, 1, 1]

    counts, lines, _ = sweep(runs, out, retry_failed=True)
    assert lines[-1] == "runs: 3 total, 0 completed now, 1 skipped (already complete), 2 failed"
    assert [ran_count(out, r) for r in runs] == [1, 2, 2]


def test_a_retried_run_that_now_completes(tmp_path, fake_prefix):
    out = str(tmp_path / "sweep")
    gate = tmp_path / "gate"
    # Fails (timeout) while the gate is closed, completes once it is open: same command.
    runs = expand(fake_prefix, [sgen("wait_for", [str(gate)])])
    counts, lines, _ = sweep(runs, out, timeout_s=0.5)
    assert lines[-1].endswith("0 completed now, 0 skipped (already complete), 1 failed")
    gate.write_text("open")
    counts, lines, _ = sweep(runs, out, retry_failed=True)
    assert lines[-1] == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed"


def test_a_lost_run_is_counted_failed_and_leaves_no_result(tmp_path, fake_prefix):
    class Flaky(concurrent.futures.ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            if "0.1" in args[0]:
                future = concurrent.futures.Future()
                future.set_exception(ConnectionError("worker lost"))
                return future
            return super().submit(fn, *args, **kwargs)

    out = str(tmp_path / "sweep")
    runs = expand(fake_prefix, [sgen("learning_rate", ["0.05", "0.1"])])
    warnings = []
    with Flaky(2) as pool:
        counts = run_sweep(runs, out, pool, echo=lambda line: None, warn=warnings.append)
    assert (counts.completed_now, counts.failed) == (1, 1)
    assert any("worker lost" in w for w in warnings)
    assert not os.path.exists(os.path.join(out, runs[1].run_id, "result.json"))


def test_interrupt_stops_launching_and_records_nothing_half_done(tmp_path, fake_prefix):
    out = str(tmp_path / "sweep")
    runs = expand(fake_prefix, [sgen("mode", ["ok", "hang"]), sgen("sleep", ["0", "0.01"])])
    interrupt = threading.Event()
    threading.Timer(1.0, interrupt.set).start()
    counts, lines, warnings = sweep(runs, out, jobs=2, interrupt=interrupt)
    assert counts.interrupted and counts.exit_code == 130
    hang_runs = [r for r in runs if ("mode", "hang") in r.params]
    for run in hang_runs:
        assert not os.path.exists(os.path.join(out, run.run_id, "result.json"))
    assert counts.completed_now == 2 and counts.failed == 0
    assert lines[-1] == "runs: 4 total, 2 completed now, 0 skipped (already complete), 0 failed"
    assert any("interrupted" in w for w in warnings)


def test_the_same_run_twice_is_run_once(tmp_path, fake_prefix):
    runs = expand(fake_prefix, [sgen("learning_rate", ["0.1"])]) * 2
    counts, lines, _ = sweep(runs, str(tmp_path / "sweep"))
    assert lines[-1] == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed"


@pytest.mark.parametrize("mode, reason", [("garbage", "no_result_line"), ("crash", "crashed")])
def test_bad_endings_are_failures_with_a_reason(tmp_path, fake_prefix, mode, reason):
    out = str(tmp_path / "sweep")
    (run,) = expand(fake_prefix, [sgen("mode", [mode])])
    sweep([run], out)
    result = json.load(open(os.path.join(out, run.run_id, "result.json")))
    assert (result["status"], result["reason"]) == ("failed", reason)


def test_cmd_generator_run_commands(tmp_path, fake_prefix):
    from tuner.grid import cmd_generator

    gen = cmd_generator([sgen("learning_rate", [0.05, 0.1])], command_prefix=fake_prefix,
                        output_path=str(tmp_path / "sweep"))
    lines = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        counts = gen.run_commands(executor=pool, echo=lines.append)
    assert (counts.total, counts.completed_now, counts.exit_code) == (2, 2, 0)
    assert lines[-1] == counts.line()


def test_keyboard_interrupt_without_a_signal_handler_stops_cleanly(tmp_path, fake_prefix, monkeypatch):
    # Used from Python (a notebook, a script) no handler is installed: Ctrl-C arrives as a
    # KeyboardInterrupt in the driver's wait, and must stop the sweep like the CLI's handler.
    real_wait = concurrent.futures.wait
    calls = []

    def wait(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "wait", wait)
    runs = expand(fake_prefix, [sgen("mode", ["hang"])])
    counts, lines, warnings = sweep(runs, str(tmp_path / "sweep"), jobs=1)
    assert counts.interrupted and counts.exit_code == 130
    assert lines[-1] == "runs: 1 total, 0 completed now, 0 skipped (already complete), 0 failed"
    assert not os.path.exists(os.path.join(str(tmp_path / "sweep"), runs[0].run_id, "result.json"))


class Recording(concurrent.futures.Executor):
    """Runs nothing: records how each run would start and reports it completed."""

    def __init__(self):
        self.resumes = {}

    def submit(self, fn, argv, output_dir, stop_token, timeout_s, resume=None):
        self.resumes[os.path.basename(output_dir)] = resume
        future = concurrent.futures.Future()
        future.set_result({"argv": argv, "exit_code": 0, "stdout": "total accuracy: 90.00%, loss: 0.1, "
                           "acc iterations: 1\n", "stderr": "", "duration_s": 0.1, "started_at": "t0",
                           "finished_at": "t1"})
        return future


def test_interrupted_runs_resume_and_retried_failures_start_afresh(tmp_path):
    out = str(tmp_path / "sweep")
    runs = expand("python experiment.py --data_dir data", [sgen("seed", [1, 2, 3, 4, 5])])
    endings = {2: "killed", 3: "timeout", 4: "diverged", 5: "crashed"}  # seed 1: no result (interrupted)
    for run in runs:
        seed = int(dict(run.params)["seed"])
        if seed in endings:
            directory = os.path.join(out, run.run_id)
            os.makedirs(directory)
            state.write_result(directory, {
                "run_id": run.run_id, "command": run.command, "params": dict(run.params), "exit_code": 1,
                "status": "failed", "reason": endings[seed], "accuracy": None, "loss": None, "iterations": None,
                "duration_s": 1.0, "started_at": "t0", "finished_at": "t1"}, "", "")
    executor = Recording()
    counts = run_sweep(runs, out, executor, retry_failed=True, echo=lambda line: None, warn=lambda line: None)
    assert counts.completed_now == 5
    continued = Resume(("python", "experiment.py"), ("--data_dir", "data"))  # --resume takes only --data_dir
    assert [executor.resumes[run.run_id] for run in runs] == [continued, continued, continued, None, None]


def test_the_stop_token_lives_in_the_sweep_and_a_killed_tuners_is_cleared(tmp_path, fake_prefix, monkeypatch):
    # Nothing is written outside the directory the user named, not even the workers' stop token;
    # one a SIGKILLed tuner left behind is removed by the next tuner of the sweep.
    import tempfile
    from tuner.worker import StopFile
    elsewhere = tmp_path / "tmp"
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    out = tmp_path / "sweep"
    stale = out / (state.STOP_TOKENS + "killed")
    stale.mkdir(parents=True)
    (stale / "stop").write_text("")
    tokens = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        submit = pool.submit

        def recording(fn, *args, **kwargs):
            tokens.extend(arg for arg in (*args, *kwargs.values()) if isinstance(arg, StopFile))
            return submit(fn, *args, **kwargs)
        pool.submit = recording
        counts = run_sweep(grid(fake_prefix), str(out), pool, echo=lambda *_: None, warn=lambda *_: None)
    assert counts.completed_now == 4 and len(tokens) == 4
    token_dir = os.path.dirname(tokens[0].path)
    assert os.path.dirname(token_dir) == str(out) and os.path.basename(token_dir).startswith(state.STOP_TOKENS)
    assert not stale.exists() and not os.path.exists(token_dir)
    assert not any(elsewhere.iterdir())


def test_the_local_pool_keeps_its_stop_token_in_the_sweep(tmp_path):
    from tuner.executors import local_backend
    with local_backend(1, str(tmp_path / "sweep")) as backend:
        token_dir = os.path.dirname(backend.stop_token.path)
        assert os.path.dirname(token_dir) == str(tmp_path / "sweep") and os.path.isdir(token_dir)
    assert not os.path.exists(token_dir)
