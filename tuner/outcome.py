"""What a finished command means: completed or failed, why, and the numbers it printed.

The experiment's contract: exit 0 and a last line `total accuracy: 97.22%, loss: 0.1234,
acc iterations: 144`; exit 2 for bad input; exit 3 when the loss diverged (stdout then says
`diverged at epoch E, iteration I`); exit 130 or a signal when it was stopped from outside
(reason killed: resumable); anything else is a crash. A run only counts as
completed when it exited 0 *and* printed its numbers, because the summary needs them. A run
continued with --resume prints `resuming from DIR (epoch E[, step S], iteration I)` first.
"""
import math
import re
import signal

FINAL_LINE = re.compile(
    r"total accuracy:\s*(?P<accuracy>\S+?)\s*%\s*,\s*loss:\s*(?P<loss>[^\s,]+)\s*,"
    r"\s*acc iterations:\s*(?P<iterations>\d+)")
DIVERGED_LINE = re.compile(r"diverged at epoch \S+, iteration \S+")
RESUMED_LINE = re.compile(r"^resuming from .* \(epoch (?P<epoch>\d+)(?:, step (?P<step>\d+))?, "
                          r"iteration (?P<iteration>\d+)\)$", re.M)

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_OUT_OF_MEMORY = 4  # a step ran out of memory (training/cli.py): resumable with a smaller batch
EXIT_INTERRUPTED = 130  # ended by Ctrl-C, SIGTERM or SIGHUP after its current step: resumable
#: Failures that interrupted a run rather than ended it: --retry_failed continues them from
#: their last checkpoint; a run that failed for any other reason starts afresh.
INTERRUPTIONS = ("killed", "timeout")


def parse_final_line(stdout):
    """The numbers of the last `total accuracy: ...` line, or None when there is none."""
    for line in reversed(stdout.splitlines()):
        match = FINAL_LINE.search(line)
        if match:
            return {
                "accuracy": _number(match["accuracy"]),
                "loss": _number(match["loss"]),
                "iterations": int(match["iterations"]),
            }
    return None


def parse_resumed(stdout):
    """{resumed_from_epoch, _step, _iteration}: the checkpoint a resumed run continued, else Nones.

    The epoch is the checkpoint's, as in the experiment's own result.json: after epoch E the
    run goes on with epoch E + 1; after step S of epoch E (a mid-epoch checkpoint) with that
    epoch's next batch.
    """
    matches = list(RESUMED_LINE.finditer(stdout))
    found = matches[-1] if matches else None
    return {f"resumed_from_{part}": int(found[part]) if found and found[part] is not None else None
            for part in ("epoch", "step", "iteration")}


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    # JSON has no NaN or infinity; a diverged loss is recorded as null.
    return value if math.isfinite(value) else None


def judge(raw):
    """Map the worker's raw report to status, reason, detail and the parsed numbers."""
    numbers = parse_final_line(raw.get("stdout", "")) or {"accuracy": None, "loss": None, "iterations": None}
    code = raw.get("exit_code")
    status, reason, detail = "failed", None, None
    if raw.get("error"):
        reason, detail = "not_started", raw["error"]
    elif raw.get("ending") == "timeout":
        reason, detail = "timeout", f"stopped after {raw.get('timeout_s')} s"
    elif code == 0 and numbers["iterations"] is not None:
        status = "completed"
    elif code == 0:
        reason, detail = "no_result_line", "exit code 0 but no 'total accuracy: ...' line on stdout"
    elif code == EXIT_DIVERGED:
        reason, detail = "diverged", _last_match(DIVERGED_LINE, raw.get("stdout", ""))
    elif code == EXIT_BAD_INPUT:
        reason, detail = "bad_input", _last_line(raw.get("stderr", ""))
    elif code == EXIT_OUT_OF_MEMORY:
        reason, detail = "out_of_memory", _last_line(raw.get("stderr", ""))
    elif code is not None and code < 0:
        reason, detail = "killed", f"killed by signal {_signal_name(-code)}"
    elif code == EXIT_INTERRUPTED:  # a signal it caught: the experiment says which, and how to go on
        reason, detail = "killed", _last_line(raw.get("stderr", ""))
    else:
        reason, detail = "crashed", _last_line(raw.get("stderr", ""))
    return {"status": status, "reason": reason, "detail": detail, **numbers, **parse_resumed(raw.get("stdout", ""))}


def _last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


def _last_match(pattern, text):
    matches = pattern.findall(text)
    return matches[-1] if matches else None


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
