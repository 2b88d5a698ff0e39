"""summarise.csv: one row per run of a sweep, best first, and a short table of the best runs.

Reads only what the runs left on disk (run.json, result.json), so it works on a finished
sweep, on one still running, and on one that died; it never moves or changes a run's files.
"""
import csv
import io
import json
import os

from definitions.files import atomic_write_text
from tuner import state

CSV_NAME = "summarise.csv"
RESULT_COLUMNS = ("status", "reason", "accuracy", "loss", "iterations", "duration_s", "exit_code", "resumed",
                  "peak_bytes", "persistent_bytes", "total_bytes", "step_s")
#: Read from the experiment's own directory inside the run's: its traced memory report
#: (memory/summary.json, or the last memory/iteration_N/ of gather_stats) and its result.json.
MEMORY_COLUMNS = ("peak_bytes", "persistent_bytes", "total_bytes", "step_s")
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
        row.update(experiment_figures(directory))
        # Whether the run continued from a checkpoint (result.json says from where); unknown without a result.
        row["resumed"] = result.get("resumed_from_epoch") is not None if result else None
        if check.kind == "missing":
            row["status"] = "pending"
        elif check.kind == "invalid":
            row["status"], row["reason"] = "corrupt", check.problem
        rows.append(row)
    rows.sort(key=_memory_rank if memory_sweep(rows) else _rank)
    return rows


def memory_sweep(rows):
    """A sweep of memory_only runs: its accuracies mean nothing, its memory is the result."""
    done = [row for row in rows if row["status"] == "completed"]
    return bool(done) and all(row.get("memory_only") and row["total_bytes"] is not None for row in done)


def experiment_figures(directory):
    """{peak_bytes, persistent_bytes, total_bytes, step_s, memory_only} of the experiment run inside
    a tuner run's directory; None where it did not trace (or has not run)."""
    from tracing.compare import MemoryReportError, memory_dir_of
    figures = dict.fromkeys(MEMORY_COLUMNS)
    figures["memory_only"] = False
    experiments = [entry.path for entry in _scandir(directory)
                   if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "config.json"))]
    if not experiments:
        return figures
    experiment = max(experiments, key=os.path.getmtime)  # a retried run's newest
    result = _read_json(os.path.join(experiment, "result.json"))
    iterations, seconds = result.get("iterations"), result.get("train_seconds")
    if isinstance(iterations, int) and iterations > 0 and isinstance(seconds, (int, float)):
        figures["step_s"] = round(seconds / iterations, 6)
    figures["memory_only"] = result.get("status") == "memory_only"
    try:
        memory = _read_json(os.path.join(memory_dir_of(experiment), "summary.json"))
    except MemoryReportError:
        return figures
    peak, persistent = memory.get("peak_bytes"), memory.get("persistent_bytes", 0)
    if isinstance(peak, int) and isinstance(persistent, int):
        figures.update(peak_bytes=peak, persistent_bytes=persistent, total_bytes=peak + persistent)
        if figures["step_s"] is None and isinstance(memory.get("step_duration_us"), (int, float)):
            figures["step_s"] = round(memory["step_duration_us"] / 1e6, 6)  # the traced step's
    return figures


def _scandir(directory):
    try:
        return list(os.scandir(directory))
    except OSError:
        return []


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _memory_rank(row):
    total = row["total_bytes"] if row["total_bytes"] is not None else float("inf")
    return (_STATUS_ORDER.get(row["status"], 9), total, row["run_id"])


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
    by_memory = memory_sweep(rows)
    if best:
        lines.append(f"best {len(best)} by {'memory (peak + persistent)' if by_memory else 'accuracy'}:")
    names = param_columns(rows)
    for rank, row in enumerate(best, 1):
        params = " ".join(f"{name}={row['params'][name]}" for name in names if name in row["params"])
        if by_memory:
            lines.append(f"  {rank}. total {_mib(row['total_bytes'])} (peak {_mib(row['peak_bytes'])} + persistent "
                         f"{_mib(row['persistent_bytes'])})  {row['duration_s']:.1f} s  {params}")
            continue
        loss = "n/a" if row["loss"] is None else f"{row['loss']:.4g}"
        lines.append(f"  {rank}. accuracy {row['accuracy']:.2f}%  loss {loss}  {row['duration_s']:.1f} s  {params}")
    return lines


def _mib(nbytes):
    return f"{nbytes / 2**20:.1f} MiB"


AGGREGATED = ("accuracy", "loss", "duration_s", "total_bytes", "step_s")


def aggregate(rows, over):
    """Completed runs grouped by every parameter but `over` (seed, say): per group the count and
    the mean and sample standard deviation of each figure, as comparisons across seeds report."""
    import statistics
    groups = {}
    for row in rows:
        if row["status"] != "completed" or over not in row["params"]:
            continue
        key = tuple(sorted((name, value) for name, value in row["params"].items() if name != over))
        groups.setdefault(key, []).append(row)
    table = []
    for key, members in groups.items():
        entry = {"params": dict(key), "runs": len(members), over: sorted(row["params"][over] for row in members)}
        for column in AGGREGATED:
            values = [row[column] for row in members if isinstance(row[column], (int, float))]
            entry[f"{column}_mean"] = statistics.fmean(values) if values else None
            entry[f"{column}_std"] = statistics.stdev(values) if len(values) > 1 else None
        table.append(entry)
    table.sort(key=lambda entry: -(entry["accuracy_mean"] if entry["accuracy_mean"] is not None else float("-inf")))
    return table


def aggregate_csv(table, over, param_order=()):
    names = param_columns([{"run_id": "", "params": e["params"], "order": list(param_order)} for e in table],
                          param_order)
    figures = [f"{column}_{kind}" for column in AGGREGATED for kind in ("mean", "std")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*names, "runs", over, *figures])
    for entry in table:
        writer.writerow([*[entry["params"].get(name, "") for name in names], entry["runs"], " ".join(entry[over]),
                         *[_cell(None if entry[f] is None else round(entry[f], 6)) for f in figures]])
    return buffer.getvalue()


def aggregate_lines(table, over):
    lines = [f"{len(table)} group(s), mean ± standard deviation over {over}:"]
    for entry in table:
        params = " ".join(f"{name}={value}" for name, value in entry["params"].items())
        mean, std = entry["accuracy_mean"], entry["accuracy_std"]
        accuracy = "n/a" if mean is None else f"{mean:.2f}%" + ("" if std is None else f" ± {std:.2f}")
        lines.append(f"  accuracy {accuracy}  ({entry['runs']} runs)  {params}")
    return lines
