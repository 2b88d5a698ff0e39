"""The driver: decide what still has to run, run it through any Executor, record the results.

The driver is the only writer of the sweep's state. Workers (a local process pool, Dask
workers on other machines) run a command, writing its logs as it goes, and send back what
happened. A run is only finished once its result.json is written; everything else about a sweep
can be lost and rebuilt by running the same command again. A run of `experiment` that did not
finish continues from its last checkpoint (tuner/resume.py); one that failed starts afresh.
"""
import concurrent.futures
import dataclasses
import os
import shlex
import shutil
import sys
import threading
import time

from tuner import attempts, experiment_command, state
from tuner.outcome import INTERRUPTIONS, judge
from tuner.summary import best_table, write_summary
from tuner.worker import GRACE_S, STDERR, STDOUT, StopFile, run_command

WAIT_S = 0.2  # how often the driver looks up from waiting to check for Ctrl-C
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by SIGINT"


@dataclasses.dataclass
class Counts:
    total: int
    completed_now: int = 0
    skipped: int = 0
    failed: int = 0
    busy: int = 0  # not started: another process runs their run directory
    interrupted: bool = False

    def line(self):
        busy = f", {self.busy} busy (running elsewhere)" if self.busy else ""
        return (f"runs: {self.total} total, {self.completed_now} completed now, "
                f"{self.skipped} skipped (already complete), {self.failed} failed{busy}")

    @property
    def exit_code(self):
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 1 if self.failed or self.busy else 0


def _print_err(message):
    print(message, file=sys.stderr, flush=True)


def plan(runs, sweep_dir, retry_failed=False, warn=_print_err):
    """Split runs into (to_run, already complete, failed and kept, to run afresh), moving bad results aside.

    A run without a valid result was interrupted and may resume; a failed run that is retried
    resumes only when an interruption ended it (killed, timeout): the other failures (diverged,
    crashed, bad input) start afresh, in a new experiment directory beside the failed one.
    """
    to_run, complete, kept, afresh = [], [], [], set()
    for run in runs:
        directory = state.run_dir(sweep_dir, run.run_id)
        check = state.read_result(directory, run.run_id)
        if check.kind == "invalid":
            moved = state.move_aside(directory)
            warn(f"warning: {run.run_id}: result.json is {check.problem}; moved to {moved}; running it again")
            to_run.append(run)
        elif check.kind == "missing":
            to_run.append(run)
        elif check.result["status"] == "completed":
            complete.append(run)
        elif retry_failed:
            to_run.append(run)
            if check.result["reason"] not in INTERRUPTIONS:
                afresh.add(run.run_id)
        else:
            kept.append(run)
    return to_run, complete, kept, afresh


def run_sweep(runs, sweep_dir, executor, *, stop_token=None, interrupt=None, retry_failed=False,
              timeout_s=None, param_order=None, echo=print, warn=_print_err):
    """Run what is not complete yet; return the Counts. Never raises for a failed run.

    Raises state.SweepBusy when another tuner holds the sweep directory.

    stop_token is passed to every worker (it must be picklable and reachable from them; by
    default a file in a directory of its own in the sweep, fine for executors on this machine). interrupt
    is set by the caller's signal handler: stop launching, end running commands, record none
    of them.
    """
    runs = list({run.run_id: run for run in runs}.values())  # the same command once
    interrupt = interrupt or threading.Event()
    sweep_dir = os.path.abspath(sweep_dir)
    os.makedirs(sweep_dir, exist_ok=True)
    own_token_dir = None
    if stop_token is None:
        own_token_dir = state.new_stop_token_dir(sweep_dir)
        stop_token = StopFile(os.path.join(own_token_dir, "stop"))
    try:
        with state.lock_sweep(sweep_dir):
            in_use = os.path.dirname(stop_token.path) if isinstance(stop_token, StopFile) else None
            state.remove_stale_stop_tokens(sweep_dir, keep=in_use)
            to_run, complete, kept, afresh = plan(runs, sweep_dir, retry_failed, warn)
            counts = Counts(total=len(runs), skipped=len(complete), failed=len(kept))
            note = f", {len(kept)} failed earlier (kept; --retry_failed runs them again)" if kept else ""
            echo(f"sweep {sweep_dir}: {len(runs)} runs, {len(complete)} already complete{note}, "
                 f"{len(to_run)} to run")
            _execute(to_run, afresh, sweep_dir, executor, stop_token, interrupt, timeout_s, counts, echo, warn)
            path, rows = write_summary(sweep_dir, param_order or _grid_order(runs))
    finally:
        if own_token_dir:
            shutil.rmtree(own_token_dir, ignore_errors=True)
    for line in best_table(rows):
        echo(line)
    echo(f"summary: {path}")
    if counts.interrupted:
        warn("interrupted: running commands were stopped and recorded nothing; "
             "run the same command again to resume")
    echo(counts.line())
    return counts


def _grid_order(runs):
    return [name for name, _ in runs[0].params] if runs else []


def _execute(to_run, afresh, sweep_dir, executor, stop_token, interrupt, timeout_s, counts, echo, warn):
    in_flight = {}
    try:
        _submit(to_run, afresh, sweep_dir, executor, stop_token, interrupt, timeout_s, in_flight, counts, warn)
        _collect(len(to_run), sweep_dir, stop_token, interrupt, in_flight, counts, echo, warn)
        counts.interrupted = interrupt.is_set()
    finally:
        if in_flight:  # leaving early (an error in the driver): do not leave commands behind
            try:
                stop_token.set()
            except Exception:
                pass


def _submit(to_run, afresh, sweep_dir, executor, stop_token, interrupt, timeout_s, in_flight, counts, warn):
    # Everything is submitted up front: the executor queues what it cannot start yet, and a
    # stop request empties that queue through the token (queued runs return without starting).
    for run in to_run:
        if interrupt.is_set():
            return
        try:
            directory = state.run_dir(sweep_dir, run.run_id)
            # The experiment writes its own files under the run's directory (it makes a
            # subdirectory per run), so everything about a run stays in one place.
            argv = run.argv(directory)
            state.write_run_spec(directory, run.run_id, shlex.join(argv), dict(run.params))
            resume = None if run.run_id in afresh else experiment_command.resume_spec(run.prefix, run.params)
            try:
                future = executor.submit(run_command, argv, directory, stop_token, timeout_s, resume=resume)
            except Exception as error:  # a broken or shut-down executor
                warn(f"error: could not submit {run.run_id}: {type(error).__name__}: {error}")
                counts.failed += 1
                continue
            in_flight[future] = run
        except KeyboardInterrupt:  # no signal handler installed (used from Python): same as one
            interrupt.set()


def _collect(planned, sweep_dir, stop_token, interrupt, in_flight, counts, echo, warn):
    finished = 0
    stopping_since = None
    while in_flight:
        try:
            if interrupt.is_set() and stopping_since is None:
                stopping_since = time.monotonic()
                warn(f"stopping: ending {len(in_flight)} queued or running command(s)...")
                # Workers poll the token: queued runs return at once, running ones are ended
                # by their worker (SIGTERM, then SIGKILL after a grace period).
                stop_token.set()
            if stopping_since is not None and time.monotonic() - stopping_since > GRACE_S + 10:
                warn(f"warning: {len(in_flight)} run(s) did not report back; leaving them")
                return
            done, _ = concurrent.futures.wait(in_flight, timeout=WAIT_S,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                run = in_flight.pop(future)
                recorded = _record(future, run, sweep_dir, stopping_since is not None, counts, warn)
                if recorded:
                    finished += 1
                    echo(f"[{finished}/{planned}] {_progress(run, recorded)}")
        except KeyboardInterrupt:
            interrupt.set()


def _record(future, run, sweep_dir, stopping, counts, warn):
    """Write the result of a finished future; None when there is nothing to record."""
    if future.cancelled():
        return None
    try:
        raw = future.result()
    except Exception as error:
        if not stopping:
            # The executor lost the run (worker died, pickling failed). The command may never
            # have run: write no result, so the next start runs it again.
            counts.failed += 1
            warn(f"error: {run.run_id}: the executor lost this run ({type(error).__name__}: {error}); "
                 "no result recorded, it runs again next time")
        return None
    if raw.get("ending") == "interrupted":
        return None
    if raw.get("ending") == "busy":
        # Neither failed nor finished: no result, so the next start looks at it again.
        counts.busy += 1
        return {"status": "busy", "busy": raw["busy"], "resumed_dir": raw["resumed_dir"]}
    verdict = judge(raw)
    result = {
        "run_id": run.run_id,
        "command": shlex.join(raw["argv"]),
        "params": dict(run.params),
        "exit_code": raw["exit_code"],
        "status": verdict["status"],
        "reason": verdict["reason"],
        "detail": verdict["detail"],
        "accuracy": verdict["accuracy"],
        "loss": verdict["loss"],
        "iterations": verdict["iterations"],
        "resumed_from_epoch": verdict["resumed_from_epoch"],
        "resumed_from_step": verdict["resumed_from_step"],
        "resumed_from_iteration": verdict["resumed_from_iteration"],
        # Every attempt (a resumed run has several) and their sum; this one's alone too.
        **_durations(state.run_dir(sweep_dir, run.run_id), raw),
        "started_at": raw["started_at"],
        "finished_at": raw["finished_at"],
        "host": raw.get("host"),
    }
    state.write_result(state.run_dir(sweep_dir, run.run_id), result, raw["stdout"], raw["stderr"],
                       resumed=bool(raw.get("resumed_dir")))
    if result["status"] == "completed":
        counts.completed_now += 1
    else:
        counts.failed += 1
    return result


def _durations(directory, raw):
    recorded = attempts.read(directory, logs=(STDOUT, STDERR))
    if not recorded:  # a worker elsewhere that wrote no attempts file: this attempt alone
        recorded = [{"started_at": raw["started_at"], "duration_s": raw["duration_s"],
                     "exit_code": raw["exit_code"], "estimated": False}]
    recorded[-1].update(duration_s=raw["duration_s"], exit_code=raw["exit_code"])
    clean, total = attempts.summed(recorded)
    return {"duration_s": total, "last_attempt_s": raw["duration_s"], "attempts": clean}


def _progress(run, result):
    if result["status"] == "busy":
        holder = f"pid {result['busy']['pid']}" if result["busy"]["pid"] is not None else "another process"
        return (f"busy      {run.run_id}  {holder} is running {result['resumed_dir']}; not started "
                f"(run the same command again once it ends)")
    resumed = "" if result["resumed_from_epoch"] is None else \
        f"  (resumed from epoch {result['resumed_from_epoch']}, iteration {result['resumed_from_iteration']})"
    if result["status"] == "completed":
        loss = "n/a" if result["loss"] is None else f"{result['loss']:.4g}"
        return (f"completed {run.run_id}  accuracy {result['accuracy']:.2f}%  loss {loss}  "
                f"{result['duration_s']:.1f} s{resumed}")
    detail = f" {result['detail']}" if result["detail"] else ""
    return (f"failed    {run.run_id}  exit {result['exit_code']} [{result['reason']}]{detail}  "
            f"{result['duration_s']:.1f} s{resumed}")


