"""summarise.csv: one row per run of a sweep, best first, and a short table of the best runs.

Reads only what the runs left on disk (run.json, result.json), so it works on a finished
sweep, on one still running, and on one that died; it never moves or changes a run's files.
"""
import csv
import io
import os

from definitions.files import atomic_write_text
from tuner import state

CSV_NAME = "summarise.csv"
RESULT_COLUMNS = ("status", "reason", "accuracy", "loss", "iterations", "duration_s", "exit_code", "resumed")
# Rows sort completed (best accuracy first), then failed, then runs with no valid result.
_STATUS_ORDER = {"completed": 0, "failed": 1, "corrupt": 2, "pending": 3}


def collect(sweep_dir):
    rows = []
    for directory in state.find_run_dirs(sweep_dir):
        run_id = os.path.basename(directory)
        spec = state.read_run_spec(directory) or {}
        check = state.read_result(directory, run_id)
        result = check.result if check.kind == "valid" else {}
        params = result.get("params") or spec.get("params") or {}
        row = {"run_id": run_id, "params": {str(k): str(v) for k, v in params.items()}}
        order = spec.get("param_order")
        row["order"] = [name for name in order if isinstance(name, str)] if isinstance(order, list) else []
        for column in RESULT_COLUMNS:
            row[column] = result.get(column)
        # Whether the run continued from a checkpoint (result.json says from where); unknown without a result.
        row["resumed"] = result.get("resumed_from_epoch") is not None if result else None
        if check.kind == "missing":
            row["status"] = "pending"
        elif check.kind == "invalid":
            row["status"], row["reason"] = "corrupt", check.problem
        rows.append(row)
    rows.sort(key=_rank)
    return rows


def _rank(row):
    accuracy = row["accuracy"] if row["accuracy"] is not None else float("-inf")
    loss = row["loss"] if row["loss"] is not None else float("inf")
    return (_STATUS_ORDER.get(row["status"], 9), -accuracy, loss, row["run_id"])


def param_columns(rows, param_order=()):
    """Grid order: the one given (`tuner run` passes its grid's), else the one the runs recorded.

    Names no order mentions (runs recorded before run.json kept one) follow, sorted.
    """
    names = {name for row in rows for name in row["params"]}
    recorded = [name for row in sorted(rows, key=lambda row: row["run_id"]) for name in row["order"]]
    ordered = list(dict.fromkeys(name for name in [*param_order, *recorded] if name in names))
    return ordered + sorted(names - set(ordered))


def to_csv(rows, param_order=()):
    params = param_columns(rows, param_order)
    taken = {"run_id", *RESULT_COLUMNS}
    # A grid parameter called e.g. "status" must not overwrite the status column.
    headers = [f"param:{name}" if name in taken else name for name in params]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run_id", *headers, *RESULT_COLUMNS])
    for row in rows:
        writer.writerow([row["run_id"], *[row["params"].get(name, "") for name in params],
                         *[_cell(row[column]) for column in RESULT_COLUMNS]])
    return buffer.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as grid values write booleans
    return value


def write_summary(sweep_dir, param_order=()):
    """Write SWEEP/summarise.csv atomically; return (its path, the rows)."""
    rows = collect(sweep_dir)
    path = os.path.join(sweep_dir, CSV_NAME)
    atomic_write_text(path, to_csv(rows, param_order))
    return path, rows


def best_table(rows, top=5):
    """A few lines for the terminal: counts, then the best completed runs."""
    counts = {status: sum(row["status"] == status for row in rows) for status in _STATUS_ORDER}
    lines = [f"{len(rows)} runs: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)]
    best = [row for row in rows if row["status"] == "completed"][:top]
    if best:
        lines.append(f"best {len(best)} by accuracy:")
    names = param_columns(rows)
    for rank, row in enumerate(best, 1):
        params = " ".join(f"{name}={row['params'][name]}" for name in names if name in row["params"])
        loss = "n/a" if row["loss"] is None else f"{row['loss']:.4g}"
        lines.append(f"  {rank}. accuracy {row['accuracy']:.2f}%  loss {loss}  {row['duration_s']:.1f} s  {params}")
    return lines
