"""Compare the traced steps of several runs: one PNG of overlaid timelines and a table.

A run directory is one with memory/summary.json and memory/timeline.txt (what the trainer
writes); a memory directory itself (summary.json beside timeline.txt, e.g. one traced
iteration of gather_stats) is accepted too. Ratios are to the first run given, so put the
baseline (usually BP) first.
"""
import json
import os
from dataclasses import dataclass

import click

from definitions import cli_input
from definitions.files import atomic_write_bytes

from tracing.plots import compare_png, format_bytes
from tracing.timeline import parse_timeline

MEMORY_DIR = "memory"


class MemoryReportError(ValueError):
    """A run directory without readable files of write_memory_report."""


@dataclass(frozen=True)
class RunMemory:
    run_dir: str
    summary: dict
    points: list


def memory_dir_of(run_dir):
    for candidate in (os.path.join(run_dir, MEMORY_DIR), run_dir):
        if os.path.isfile(os.path.join(candidate, "summary.json")):
            return candidate
    raise MemoryReportError(
        f"{run_dir} has no {MEMORY_DIR}/summary.json: trace the run first "
        "(experiment ... --memory_only true) or pass the run's directory"
    )


def load_run(run_dir):
    directory = memory_dir_of(run_dir)
    timeline_path = os.path.join(directory, "timeline.txt")
    if not os.path.isfile(timeline_path):
        raise MemoryReportError(f"{directory} has summary.json but no timeline.txt")
    try:
        with open(os.path.join(directory, "summary.json"), encoding="utf-8") as handle:
            summary = json.load(handle)
        with open(timeline_path, encoding="utf-8") as handle:
            points = parse_timeline(handle.read())
    except ValueError as error:  # json.JSONDecodeError is one
        raise MemoryReportError(f"{directory}: {error}") from error
    except OSError as error:
        raise MemoryReportError(f"cannot read {error.filename}: {error.strerror}") from error
    if not isinstance(summary, dict) or isinstance(summary.get("peak_bytes"), bool) or \
            not isinstance(summary.get("peak_bytes"), int):
        raise MemoryReportError(f"{directory}/summary.json has no integer peak_bytes")
    return RunMemory(run_dir, summary, points)


def _name(run):
    parts = [str(run.summary.get(key)) for key in ("network", "algorithm") if run.summary.get(key) is not None]
    return ", ".join(parts) or os.path.basename(os.path.normpath(run.run_dir))


def legend_labels(runs):
    """'network, algorithm, peak X' per run; the directory is added where names repeat."""
    names = [_name(run) for run in runs]
    labels = []
    for run, name in zip(runs, names):
        if names.count(name) > 1:
            name = f"{name} ({os.path.basename(os.path.normpath(run.run_dir))})"
        labels.append(f"{name}, peak {format_bytes(run.summary['peak_bytes'])}")
    return labels


def _ratio(value, baseline):
    return f"{value / baseline:.3f}" if baseline else "n/a"


def comparison_table(runs):
    """Peaks of each run and their ratios to the first run, as aligned text."""
    header = ("run", "network", "algorithm", "peak_bytes", "persistent_bytes", "peak_ratio", "total_ratio")
    first = runs[0].summary
    first_total = first["peak_bytes"] + first.get("persistent_bytes", 0)
    rows = [header]
    for run in runs:
        peak = run.summary["peak_bytes"]
        persistent = run.summary.get("persistent_bytes", 0)
        rows.append((
            os.path.basename(os.path.normpath(run.run_dir)),
            str(run.summary.get("network")),
            str(run.summary.get("algorithm")),
            str(peak),
            str(persistent),
            _ratio(peak, first["peak_bytes"]),
            _ratio(peak + persistent, first_total),
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    note = "peak_ratio: transient peak / first run's; total_ratio: (peak + persistent) / first run's"
    return "\n".join(lines + ["", note]) + "\n"


def _literal(text):
    # Control characters have no glyph (matplotlib warns); a newline is a line break.
    return cli_input.one_line(text, keep="\n").replace("$", r"\$")


def compare_runs(run_dirs, out_png, title=None):
    """Overlay the runs' timelines in out_png and return the table of peaks and ratios."""
    if not run_dirs:
        raise ValueError("compare needs at least one run directory")
    runs = [load_run(run_dir) for run_dir in run_dirs]
    title = title or f"Memory allocated during one training step, {len(runs)} run(s)"
    # A `$` in a title or a run's name would start matplotlib's math mode (and `$$` fail in it).
    labels = [_literal(label) for label in legend_labels(runs)]
    png = compare_png(list(zip(labels, [run.points for run in runs])), _literal(title))
    atomic_write_bytes(out_png, png)
    return comparison_table(runs)


@click.command("compare")
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR...",
                type=cli_input.Path(exists=True, file_okay=False))
@click.option("-o", "--output", default="memory_compare.png", show_default=True,
              type=cli_input.Path(dir_okay=False), help="PNG file to write the overlaid timelines to.")
@click.option("--title", default=None, help="Title of the figure (default: names the number of runs).")
def compare_command(run_dirs, output, title):
    """Overlay the traced memory timelines of RUN_DIR... in one PNG and print their peaks.

    Each RUN_DIR needs memory/summary.json and memory/timeline.txt (written by a traced run).
    Ratios are to the first RUN_DIR.
    """
    try:
        table = compare_runs(list(run_dirs), output, title)
    except MemoryReportError as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint="RUN_DIR") from error
    except OSError as error:
        raise click.BadParameter(cli_input.one_line(f"cannot write {output}: {error.strerror}"),
                                 param_hint="'-o' / '--output'") from None
    click.echo(table, nl=False)
    click.echo(f"figure: {output}")
