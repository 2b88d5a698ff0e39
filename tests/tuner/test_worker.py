import os
import sys
import threading
import time

from tests.tuner.conftest import FAKE, alive, wait_for
from tuner.resume import Resume
from tuner.worker import StopFile, run_command


def fake(tmp_path, *args):
    out = str(tmp_path / "out")
    return [sys.executable, FAKE, *args, "--output_dir", out], out


def test_reports_exit_code_and_output(tmp_path):
    argv, out = fake(tmp_path, "--learning_rate", "0.1")
    report = run_command(argv, out)
    assert report["exit_code"] == 0 and report["ending"] is None and report["error"] is None
    assert report["stdout"].strip().endswith("acc iterations: 100")
    assert report["duration_s"] > 0 and report["started_at"] <= report["finished_at"]
    assert os.path.isdir(out)  # the worker makes the --output_dir (on its own machine, for Dask)


def test_undecodable_output_is_replaced_not_fatal(tmp_path):
    argv, out = fake(tmp_path, "--mode", "garbage")
    report = run_command(argv, out)
    assert report["exit_code"] == 0 and "\ufffd" in report["stdout"]


def test_a_command_that_cannot_start(tmp_path):
    report = run_command([str(tmp_path / "no-such-program")], str(tmp_path / "out"))
    assert report["exit_code"] is None and "could not start" in report["error"]


def test_timeout_ends_the_command(tmp_path):
    argv, out = fake(tmp_path, "--mode", "hang")
    start = time.monotonic()
    report = run_command(argv, out, timeout_s=0.5)
    assert report["ending"] == "timeout" and report["exit_code"] < 0
    assert time.monotonic() - start < 5


def test_stop_token_ends_even_a_command_that_ignores_sigterm(tmp_path):
    argv, out = fake(tmp_path, "--mode", "stubborn")
    token = StopFile(tmp_path / "stop")
    threading.Timer(0.5, token.set).start()
    start = time.monotonic()
    report = run_command(argv, out, stop_token=token, grace_s=0.5)
    assert report["ending"] == "interrupted" and report["exit_code"] == -9
    assert time.monotonic() - start < 5
    pid = int(open(os.path.join(out, "pid")).read())
    assert not alive(pid)


def test_queued_work_after_a_stop_never_starts(tmp_path):
    argv, out = fake(tmp_path)
    token = StopFile(tmp_path / "stop")
    token.set()
    report = run_command(argv, out, stop_token=token)
    assert report["ending"] == "interrupted" and report["exit_code"] is None
    assert not os.path.exists(out)


def test_the_logs_grow_while_the_command_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # the tuner's own environment may lack it
    gate = tmp_path / "gate"
    argv, out = fake(tmp_path, "--wait_for", str(gate))
    logs = [os.path.join(out, name) for name in ("stdout.log", "stderr.log")]
    report = {}
    thread = threading.Thread(target=lambda: report.update(run_command(argv, out)))
    thread.start()
    try:
        # The fake prints its stdout line without flushing: only an unbuffered child shows it now.
        wait_for(lambda: all(os.path.exists(log) and "waiting for" in open(log).read() for log in logs),
                 what="the waiting lines in both logs")
        assert "total accuracy" not in open(logs[0]).read()  # it is still running
    finally:
        gate.write_text("open")
        thread.join(timeout=60)
    assert report["exit_code"] == 0 and report["stdout"].strip().endswith("acc iterations: 100")
    assert (open(logs[0]).read(), open(logs[1]).read()) == (report["stdout"], report["stderr"])


PRINT_ARGS = (sys.executable, "-c", "import sys; print(*sys.argv[1:])")


def test_a_resumable_run_continues_the_newest_experiment_directory_and_its_logs(tmp_path):
    out = tmp_path / "out"
    for name in ("net_BP_001", "net_BP_002"):
        (out / name).mkdir(parents=True)
        (out / name / "config.json").write_text("{}")
    os.utime(out / "net_BP_001" / "config.json", (1, 1))  # the failed run that _002 retried afresh
    (out / "notes").mkdir()
    (out / "stdout.log").write_text("finished epoch 1\n")
    report = run_command(["never-run"], str(out), resume=Resume(PRINT_ARGS, ("--data_dir", "d")))
    newest = str(out / "net_BP_002")
    assert report["resumed_dir"] == newest and report["argv"] == [*PRINT_ARGS, "--resume", newest, "--data_dir", "d"]
    assert report["stdout"] == f"--resume {newest} --data_dir d\n"  # this attempt's output only...
    assert (out / "stdout.log").read_text() == "finished epoch 1\n" + report["stdout"]  # ...after the earlier one

    # Nothing to continue (or no resume allowed): the command itself, its logs begun afresh.
    fresh = [sys.executable, "-c", "print('fresh')"]
    report = run_command(fresh, str(tmp_path / "empty"), resume=Resume(PRINT_ARGS))
    assert report["resumed_dir"] is None and report["stdout"] == "fresh\n"
    report = run_command(fresh, str(out))
    assert report["resumed_dir"] is None and (out / "stdout.log").read_text() == "fresh\n"
