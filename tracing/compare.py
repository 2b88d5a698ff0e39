"""Compare the traced steps of several runs: one PNG of overlaid timelines and a table.

A run directory is one with memory/summary.json and memory/timeline.txt (what the trainer
writes); a memory directory itself (summary.json beside timeline.txt, e.g. one traced
iteration of gather_stats) is accepted too. Ratios are to the first run given, so put the
baseline (usually BP) first. With a trace file, the runs' trace.json files become one Chrome
trace, a process per run.
"""
import json
import os
from dataclasses import dataclass

import click

from definitions import cli_input, networks
from definitions.errors import ConfigError
from definitions.files import atomic_write_bytes, atomic_write_text, check_output_file

from tracing.chrome_trace import TRACE_FILE, trace_text
from tracing.plots import FORMATS, compare_png, figure_format, format_bytes
from tracing.timeline import parse_timeline
from tracing.trace_merge import NotATrace, check_events, runs_side_by_side

MEMORY_DIR = "memory"


class MemoryReportError(ValueError):
    """A run directory without readable files of write_memory_report."""


class CannotWrite(OSError):
    """An output of compare could not be written; `option` names where the user gave its path."""

    def __init__(self, option, path, reason):
        super().__init__(f"cannot write {path}: {reason}")
        self.option = option


@dataclass(frozen=True)
class RunMemory:
    run_dir: str
    summary: dict
    points: list


def memory_dir_of(run_dir):
    """The memory report of `run_dir`: its memory/, itself, the last memory/iteration_N/ of a
    gather_stats run, or the one report one level down (a sweep's directory holding one run)."""
    for candidate in (os.path.join(run_dir, MEMORY_DIR), run_dir):
        if _is_report(candidate):
            return candidate
    iterations = _iterations(os.path.join(run_dir, MEMORY_DIR))
    if iterations:
        return iterations[-1]
    below = [found for child in _subdirectories(run_dir) for found in _reports_in(child)]
    if len(below) == 1:
        return below[0]
    if below:
        shown = ", ".join(below[:4]) + (f" and {len(below) - 4} more" if len(below) > 4 else "")
        raise MemoryReportError(f"{run_dir} holds {len(below)} memory reports, one per run: pass the run "
                                f"directories to compare, e.g. {shown}")
    raise MemoryReportError(
        f"{run_dir} has no memory report ({MEMORY_DIR}/summary.json, {MEMORY_DIR}/iteration_N/ of gather_stats, "
        "or one run below it): trace the run first (experiment ... --memory_only true)"
    )


def _is_report(directory):
    return os.path.isfile(os.path.join(directory, "summary.json"))


def _iterations(memory_dir):
    """memory/iteration_N/ reports, by N."""
    found = []
    for name in os.listdir(memory_dir) if os.path.isdir(memory_dir) else ():
        number = name[len("iteration_"):]
        if name.startswith("iteration_") and number.isdigit() and _is_report(os.path.join(memory_dir, name)):
            found.append((int(number), os.path.join(memory_dir, name)))
    return [path for _, path in sorted(found)]


def _subdirectories(directory):
    try:
        return sorted(entry.path for entry in os.scandir(directory) if entry.is_dir())
    except OSError:
        return []


def _reports_in(run_dir):
    if _is_report(os.path.join(run_dir, MEMORY_DIR)):
        return [os.path.join(run_dir, MEMORY_DIR)]
    return _iterations(os.path.join(run_dir, MEMORY_DIR))[-1:]


def load_run(run_dir):
    directory = memory_dir_of(run_dir)
    timeline_path = os.path.join(directory, "timeline.txt")
    if not os.path.isfile(timeline_path):
        raise MemoryReportError(f"{directory} has summary.json but no timeline.txt")
    summary = _read(os.path.join(directory, "summary.json"), json.load)
    points = _read(timeline_path, lambda handle: parse_timeline(handle.read()))
    if not isinstance(summary, dict) or isinstance(summary.get("peak_bytes"), bool) or \
            not isinstance(summary.get("peak_bytes"), int):
        raise MemoryReportError(f"{directory}/summary.json has no integer peak_bytes")
    return RunMemory(run_dir, summary, points)


def load_trace(run):
    """The run's trace.json as a dict; MemoryReportError for a run traced before trace.json existed."""
    path = os.path.join(memory_dir_of(run.run_dir), TRACE_FILE)
    if not os.path.isfile(path):
        raise MemoryReportError(f"{os.path.dirname(path)} has no {TRACE_FILE} (traced before trace export): "
                                "trace the run again, or leave out --trace")
    trace = _read(path, json.load)
    try:
        check_events(trace)
    except NotATrace as error:
        raise MemoryReportError(f"{path}: {error}") from error
    return trace


def _read(path, parse):
    try:
        with open(path, encoding="utf-8") as handle:
            return parse(handle)
    except ValueError as error:  # json.JSONDecodeError is one
        raise MemoryReportError(f"{path}: {error}") from error
    except OSError as error:
        raise MemoryReportError(f"cannot read {error.filename}: {error.strerror}") from error


def default_sequence(network):
    """The sequence a shipped network dict names, or None for a network this package does not ship."""
    value = getattr(networks, network, None) if isinstance(network, str) and not network.startswith("_") else None
    return value.get("sequence") if isinstance(value, dict) else None


def _described(run):
    """(network, sequence, algorithm, batch size) of a run's summary; None where it does not say."""
    summary = run.summary
    return tuple(summary.get(key) for key in ("network", "sequence", "algorithm", "batch_size"))


def run_name(run):
    """'network, sequence, algorithm, batch N': the sequence only where it is not the network's own
    (of a 'module:function' sequence, the function)."""
    network, sequence, algorithm, batch_size = _described(run)
    if sequence is not None and sequence == default_sequence(network):
        sequence = None
    if isinstance(sequence, str) and ":" in sequence:
        # 'package.module:function': the function names the architecture; the module would push
        # the algorithm out of a viewer's narrow track names.
        sequence = sequence.rpartition(":")[2]
    parts = [str(part) for part in (network, sequence, algorithm) if part is not None]
    parts += [f"batch {batch_size}"] if batch_size is not None else []
    return ", ".join(parts) or os.path.basename(os.path.normpath(run.run_dir))


def run_names(runs):
    """run_name per run; the directory is added where names repeat."""
    names = [run_name(run) for run in runs]
    return [f"{name} ({os.path.basename(os.path.normpath(run.run_dir))})" if names.count(name) > 1 else name
            for run, name in zip(runs, names)]


def legend_labels(runs):
    """'network, [sequence,] algorithm, batch N, peak X' per run."""
    return [f"{name}, peak {format_bytes(run.summary['peak_bytes'])}" for run, name in zip(runs, run_names(runs))]


def _ratio(value, baseline):
    return f"{value / baseline:.3f}" if baseline else "n/a"


def differences(runs):
    """Warnings, one line each, when the runs differ in what makes their memory incomparable."""
    lines = []
    for key, what in (("batch_size", "batch size"), ("dataset", "dataset")):
        values = {run.summary.get(key) for run in runs} - {None}
        if len(values) > 1:
            lines.append(f"the runs differ in {what} ({', '.join(sorted(map(str, values)))}): "
                         f"their memory is not for the same input")
    return lines


CSV_HEADER = ("run", "network", "sequence", "algorithm", "batch_size", "peak_bytes", "persistent_bytes",
              "peak_ratio", "total_ratio")


def comparison_csv(runs):
    """The table in bytes, for a spreadsheet (`compare --csv`)."""
    import csv
    import io
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_table_rows(runs, in_mib=False))
    return buffer.getvalue()


def _table_rows(runs, in_mib):
    first = runs[0].summary
    first_total = first["peak_bytes"] + first.get("persistent_bytes", 0)
    size = (lambda count: f"{count / 2**20:.2f}") if in_mib else str
    rows = []
    for run in runs:
        peak = run.summary["peak_bytes"]
        persistent = run.summary.get("persistent_bytes", 0)
        rows.append((
            os.path.basename(os.path.normpath(run.run_dir)),
            *("-" if value is None else str(value) for value in _described(run)),
            size(peak),
            size(persistent),
            _ratio(peak, first["peak_bytes"]),
            _ratio(peak + persistent, first_total),
        ))
    return rows


def comparison_table(runs):
    """Peaks of each run (MiB) and their ratios to the first run, as aligned text."""
    header = ("run", "network", "sequence", "algorithm", "batch_size", "peak_MiB", "persistent_MiB",
              "peak_ratio", "total_ratio")
    rows = [header, *_table_rows(runs, in_mib=True)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    note = "peak_ratio: transient peak / first run's; total_ratio: (peak + persistent) / first run's"
    return "\n".join(lines + ["", note]) + "\n"


def _literal(text):
    # Control characters have no glyph (matplotlib warns); a newline is a line break.
    return cli_input.one_line(text, keep="\n").replace("$", r"\$")


def compare_runs(run_dirs, out_png, title=None, trace_path=None, persistent=False, csv_path=None, warn=None):
    """Overlay the runs' timelines in out_png (PNG, PDF or SVG by its extension) and return the
    table of peaks (MiB) and ratios.

    trace_path: also write the runs' trace.json files there as one trace, a process per run.
    persistent: each curve stands on its run's persistent memory. csv_path: the table in bytes.
    warn(line): told when the runs differ in batch size or dataset.
    Every run is read before anything is written.
    """
    if not run_dirs:
        raise ValueError("compare needs at least one run directory")
    runs = [load_run(run_dir) for run_dir in run_dirs]
    traces = [load_trace(run) for run in runs] if trace_path is not None else None
    for line in differences(runs):
        (warn or (lambda text: None))(line)
    what = "Memory in use (persistent + the step's)" if persistent else "Memory allocated"
    title = title or f"{what} during one training step, {len(runs)} run(s)"
    # A `$` in a title or a run's name would start matplotlib's math mode (and `$$` fail in it).
    labels = [_literal(label) for label in legend_labels(runs)]
    baselines = [run.summary.get("persistent_bytes", 0) for run in runs] if persistent else None
    png = compare_png(list(zip(labels, [run.points for run in runs])), _literal(title), baselines,
                      fmt=figure_format(out_png) or "png")
    _write("'-o' / '--output'", out_png, lambda: atomic_write_bytes(out_png, png))
    if csv_path is not None:
        _write("'--csv'", csv_path, lambda: atomic_write_text(csv_path, comparison_csv(runs)))
    if traces is not None:
        merged = runs_side_by_side(list(zip(run_names(runs), traces)))
        _write("'--trace'", trace_path, lambda: atomic_write_text(trace_path, trace_text(merged)))
    return comparison_table(runs)


def _write(option, path, write):
    try:
        write()
    except OSError as error:
        raise CannotWrite(option, path, error.strerror) from None


@click.command("compare", cls=cli_input.Command)
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR...",
                type=cli_input.Path(exists=True, file_okay=False))
@click.option("-o", "--output", default="memory_compare.png", show_default=True,
              type=cli_input.Path(dir_okay=False),
              help="Figure file of the overlaid timelines; its extension (.png, .pdf, .svg) is its format.")
@click.option("--persistent", is_flag=True,
              help="Stand each curve on its run's persistent memory (variables, optimizer slots): the total in use.")
@click.option("--csv", "csv_path", default=None, type=cli_input.Path(dir_okay=False),
              help="Also write the table, in bytes, to this CSV file.")
@click.option("--title", default=None, help="Title of the figure (default: names the number of runs).")
@click.option("--trace", "trace_path", default=None, metavar="FILE", type=cli_input.Path(dir_okay=False),
              help="Also write the runs' memory/trace.json as one Chrome trace (ui.perfetto.dev, "
                   "chrome://tracing), one process per run.")
def compare_command(run_dirs, output, title, trace_path, persistent, csv_path):
    """Overlay the traced memory timelines of RUN_DIR... in one PNG and print their peaks.

    Each RUN_DIR needs memory/summary.json and memory/timeline.txt (written by a traced run),
    and memory/trace.json with --trace. Ratios are to the first RUN_DIR.
    """
    if trace_path is not None and os.path.realpath(trace_path) == os.path.realpath(output):
        raise click.BadParameter(f"{trace_path} is also the figure's file (-o)", param_hint="'--trace'")
    if figure_format(output) is None:
        raise click.BadParameter(f"{output!r}: the extension names the figure's format, one of "
                                 f"{', '.join('.' + fmt for fmt in FORMATS)}", param_hint="'-o' / '--output'")
    for option, path in (("'-o' / '--output'", output), ("'--trace'", trace_path), ("'--csv'", csv_path)):
        if path is not None:  # before any run is read: a bad path costs nothing
            try:
                check_output_file(path, option)
            except ConfigError as error:
                raise click.BadParameter(cli_input.one_line(error), param_hint=option) from None
    try:
        table = compare_runs(list(run_dirs), output, title, trace_path, persistent, csv_path,
                             warn=lambda line: click.echo(cli_input.one_line(f"Warning: {line}"), err=True))
    except MemoryReportError as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint="RUN_DIR") from error
    except CannotWrite as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint=error.option) from None
    click.echo(table, nl=False)
    click.echo(f"figure: {output}")
    if csv_path is not None:
        click.echo(f"table: {csv_path}")
    if trace_path is not None:
        click.echo(f"trace: {trace_path}")
