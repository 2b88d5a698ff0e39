"""tuner/attempts.py: an attempt whose end was never written (tuner and worker killed) is timed
by its logs' last write, and marked estimated."""
import os
import time

from tuner import attempts


def test_an_attempt_without_an_end_is_timed_by_its_logs(tmp_path):
    attempts.begin(str(tmp_path), fresh=True, started_at="t0")
    log = tmp_path / "stdout.log"
    log.write_text("epoch 1\n")
    start = time.time()
    os.utime(log, (start + 30, start + 30))  # the log was last written 30 s after the start
    attempts.begin(str(tmp_path), fresh=False, started_at="t1")
    attempts.end(str(tmp_path), 12.5, 0)
    first, second = attempts.read(str(tmp_path), logs=("stdout.log",))
    assert first["estimated"] and 29 <= first["duration_s"] <= 31
    assert not second["estimated"] and second["duration_s"] == 12.5 and second["exit_code"] == 0
    clean, total = attempts.summed([first, second])
    assert total == round(first["duration_s"] + 12.5, 3) and all("_start" not in attempt for attempt in clean)


def test_a_fresh_start_forgets_earlier_attempts(tmp_path):
    attempts.begin(str(tmp_path), fresh=True, started_at="t0")
    attempts.end(str(tmp_path), 3.0, 1)
    attempts.begin(str(tmp_path), fresh=True, started_at="t1")
    (only,) = attempts.read(str(tmp_path))
    assert only["started_at"] == "t1"
