"""Write the memory files of one traced step into a directory.

Files: timeline.txt (busiest device), timeline_<device>.txt (the others), nodes.csv,
activations.csv, blocks.csv, timeline.png, timeline_by_category.png (tracing/figures.py),
trace.json (Chrome/Perfetto), and summary.json last, so that a summary.json on disk means the
whole report is there.
"""
import csv
import dataclasses
import io
import os
import statistics

from definitions.files import atomic_write_bytes, atomic_write_json, atomic_write_text

from tracing.categories import Classifier
from tracing.chrome_trace import TRACE_FILE, step_trace, trace_text
from tracing.figures import timeline_figure
from tracing.graph_facts import facts_from_graph
from tracing.liveness import ACTIVATION_COLUMNS, activation_rows
from tracing.node_table import NODE_COLUMNS, executed_nodes, node_rows
from tracing.plots import timeline_by_category_png, timeline_png
from tracing.persistent import persistent_breakdown
from tracing.profile import BLOCK_COLUMNS, block_rows, weight_bytes_by_block, with_recomputation
from tracing.summary import build_summary, step_duration, step_origin
from tracing.timeline import (
    busiest_device,
    device_file_names,
    format_timeline,
    peak_bytes,
    peak_index,
    split_by_device,
    timeline_points,
)

TIMELINE_FILE = "timeline.txt"
SUMMARY_FILE = "summary.json"
BLOCKS_FILE = "blocks.csv"
TIMELINE_PNG = "timeline.png"
CATEGORY_PNG = "timeline_by_category.png"


def csv_text(columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(row.as_csv_row() for row in rows)
    return buffer.getvalue()


def timeline_file_names(devices, busiest):
    short = device_file_names(devices)
    return {device: TIMELINE_FILE if device == busiest else f"timeline_{short[device]}.txt" for device in devices}


def write_memory_report(records, out_dir, *, graph=None, node_stats=None, meta=None, persistent_bytes=0,
                        other_steps=()):
    """Write the memory files for one traced step into out_dir and return the summary dict.

    records: AllocationRecord list (tracing.trace(...).records). graph: the tf.Graph of the
    step, for op types, optimizer variables and tensor readers; without it categories come
    from names alone and activations.csv has its header only (readers are unknown).
    node_stats: NodeStat list, for timings and execution ranks. meta: keys copied into
    summary.json (network, algorithm, iteration, batch_size, ...).

    other_steps: [(records, node_stats)] of more traced runs of the same step. Then the step
    whose peak is the median is the one the timelines and summary.json show (its peak_bytes
    is the median; `peak_bytes_per_step` lists them all), and the numbers of nodes.csv,
    activations.csv and blocks.csv are each the median over the steps.
    """
    meta = dict(meta or {})
    facts = facts_from_graph(graph)
    steps = [_Step(step_records, stats, facts) for step_records, stats in [(records, node_stats), *other_steps]]
    peaks = [step.peak for step in steps]
    chosen = sorted(range(len(steps)), key=lambda i: peaks[i])[len(steps) // 2]
    step = steps[chosen]
    records, node_stats, nodes, classifier = step.records, step.node_stats, step.nodes, step.classifier
    origin = step_origin(records, node_stats or [])

    per_device_points = step.points(origin)
    busiest = busiest_device(per_device_points)
    files = timeline_file_names(list(per_device_points), busiest)
    if busiest is None:
        atomic_write_text(os.path.join(out_dir, TIMELINE_FILE), "")
    for device, points in per_device_points.items():
        atomic_write_text(os.path.join(out_dir, files[device]), format_timeline(points))

    rows = [other.node_rows() for other in steps]
    nodes_csv = median_rows(rows[chosen], rows, "node_name")
    activations = [other.activations(graph, other_rows) for other, other_rows in zip(steps, rows)]
    activations_csv = median_rows(activations[chosen], activations, "activation_name")
    blocks = [block_rows(other_rows, other_activations, weight_bytes_by_block(graph))
              for other_rows, other_activations in zip(rows, activations)]
    atomic_write_text(os.path.join(out_dir, "nodes.csv"), csv_text(NODE_COLUMNS, nodes_csv))
    atomic_write_text(os.path.join(out_dir, "activations.csv"), csv_text(ACTIVATION_COLUMNS, activations_csv))
    atomic_write_text(os.path.join(out_dir, BLOCKS_FILE), csv_text(BLOCK_COLUMNS, median_rows(blocks[chosen], blocks,
                                                                                               "block")))

    busiest_points = per_device_points.get(busiest, [])
    figure = timeline_figure(per_device_points, busiest, nodes, classifier, origin, persistent_bytes, meta,
                             peak_index(busiest_points),
                             persistent_breakdown(graph) if graph is not None else None)
    atomic_write_bytes(os.path.join(out_dir, TIMELINE_PNG), timeline_png(figure))
    atomic_write_bytes(os.path.join(out_dir, CATEGORY_PNG), timeline_by_category_png(figure))
    # The chosen step as it ran, like the timelines (nodes.csv's medians mix steps).
    trace = step_trace(nodes, rows[chosen], per_device_points, origin=origin, busiest=busiest,
                       persistent_bytes=int(persistent_bytes), meta=meta)
    atomic_write_text(os.path.join(out_dir, TRACE_FILE), trace_text(trace))

    summary = build_summary(
        per_device_records=split_by_device(records),
        per_device_points=per_device_points,
        busiest=busiest,
        classifier=classifier,
        persistent_bytes=persistent_bytes,
        origin=origin,
        duration_us=step_duration(records, node_stats or [], origin),
        node_count=len(nodes),
        activation_count=len(activations_csv),
        timeline_files=files,
        meta=meta,
    )
    if other_steps:
        summary.update(traced_steps=len(steps), peak_bytes_per_step=peaks)
    atomic_write_json(os.path.join(out_dir, SUMMARY_FILE), summary)
    return summary


class _Step:
    """One traced run of the step, with what every file needs of it."""

    def __init__(self, records, node_stats, facts):
        self.records, self.node_stats = records, node_stats
        self.nodes = executed_nodes(node_stats, records)
        self.classifier = Classifier(facts, {node.name: node.op_type for node in self.nodes})
        self.facts = facts
        points = self.points(0)
        self.peak = peak_bytes(points[busiest_device(points)]) if points else 0

    def points(self, origin):
        return {device: timeline_points(recs, origin) for device, recs in split_by_device(self.records).items()}

    def node_rows(self):
        return node_rows(self.nodes, self.records, self.classifier)

    def activations(self, graph, rows):
        if graph is None:
            return []
        return with_recomputation(activation_rows(self.records, self.nodes, self.facts.consumers, self.classifier), rows)


def median_rows(chosen, all_rows, key):
    """The chosen step's rows, each integer field replaced by its median over the steps' rows of
    the same key (rows other steps lack keep their own value)."""
    if len(all_rows) == 1:
        return chosen
    by_key = [{getattr(row, key): row for row in rows} for rows in all_rows]
    merged = []
    for row in chosen:
        matches = [rows[getattr(row, key)] for rows in by_key if getattr(row, key) in rows]
        changes = {field.name: int(statistics.median(getattr(match, field.name) for match in matches))
                   for field in dataclasses.fields(row)
                   if field.name != key and isinstance(getattr(row, field.name), int)
                   and field.name not in ("rank", "creation_rank", "last_fw_use_rank", "first_bw_use_rank",
                                          "last_bw_use_rank", "block")}
        merged.append(dataclasses.replace(row, **changes))
    return merged
