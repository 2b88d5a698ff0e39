"""Every attempt of a run and their sum (issue "A researcher's day", item 12).

A run that resumes (the tuner was killed, `--retry_failed` after a timeout) has several attempts;
its `duration_s` is their sum and `attempts` lists each. The worker appends one JSON line when an
attempt starts and one when it ends (O_APPEND: a line is written whole), beside the logs it
writes as the run goes; a fresh start empties the file. An attempt whose end was never written
(the tuner and its workers were killed) lasted until its logs were last written: their
modification time is the best evidence left, and the attempt says it was estimated.
"""
import json
import os
import time

ATTEMPTS = "attempts.jsonl"


def begin(directory, fresh, started_at):
    """Note an attempt's start; `fresh` (not a resumption) forgets the earlier attempts."""
    _append(directory, {"started_at": started_at, "start_time": time.time()}, truncate=fresh)


def end(directory, duration_s, exit_code):
    _append(directory, {"duration_s": duration_s, "exit_code": exit_code})


def read(directory, logs=()):
    """[{started_at, duration_s, exit_code, estimated}] of the run in `directory`, oldest first."""
    attempts = []
    try:
        with open(os.path.join(directory, ATTEMPTS), encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError):
        return attempts
    for line in lines:
        if not isinstance(line, dict):
            continue
        if "started_at" in line:
            attempts.append({"started_at": line["started_at"], "duration_s": None, "exit_code": None,
                             "estimated": False, "_start": line.get("start_time")})
        elif attempts and attempts[-1]["duration_s"] is None and "duration_s" in line:
            attempts[-1].update(duration_s=line["duration_s"], exit_code=line.get("exit_code"))
    for attempt in attempts[:-1]:  # the last one may still be running: the caller ends it
        if attempt["duration_s"] is None:
            attempt.update(duration_s=_estimate(attempt["_start"], directory, logs), estimated=True)
    return attempts


def summed(attempts):
    """The attempts without their internals, and the sum of their durations."""
    clean = [{key: value for key, value in attempt.items() if not key.startswith("_")} for attempt in attempts]
    return clean, round(sum(attempt["duration_s"] or 0 for attempt in clean), 3)


def _estimate(start, directory, logs):
    if not isinstance(start, (int, float)):
        return 0.0
    times = []
    for name in logs:
        try:
            times.append(os.path.getmtime(os.path.join(directory, name)))
        except OSError:
            pass
    return round(max(0.0, max(times, default=start) - start), 3)


def _append(directory, record, truncate=False):
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND)
    fd = os.open(os.path.join(directory, ATTEMPTS), flags, 0o644)
    try:
        os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
