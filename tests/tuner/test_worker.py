import os
import sys
import threading
import time

from tests.tuner.conftest import FAKE, alive
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
