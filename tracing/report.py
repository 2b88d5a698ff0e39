"""Write the memory files of one traced step into a directory.

Files: timeline.txt (busiest device), timeline_<device>.txt (the others), nodes.csv,
activations.csv, timeline.png, and summary.json last, so that a summary.json on disk means
the whole report is there.
"""
import csv
import io
import os

from definitions.files import atomic_write_bytes, atomic_write_json, atomic_write_text

from tracing.categories import Classifier
from tracing.graph_facts import facts_from_graph
from tracing.liveness import ACTIVATION_COLUMNS, activation_rows
from tracing.node_table import NODE_COLUMNS, executed_nodes, node_rows
from tracing.plots import timeline_png
from tracing.summary import build_summary, step_duration, step_origin
from tracing.timeline import (
    busiest_device,
    device_file_names,
    format_timeline,
    peak_index,
    split_by_device,
    timeline_points,
)

TIMELINE_FILE = "timeline.txt"
SUMMARY_FILE = "summary.json"


def csv_text(columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(row.as_csv_row() for row in rows)
    return buffer.getvalue()


def timeline_file_names(devices, busiest):
    short = device_file_names(devices)
    return {device: TIMELINE_FILE if device == busiest else f"timeline_{short[device]}.txt" for device in devices}


def _plot_series(per_device_points, busiest):
    """(legend label, points) per device, the busiest first: it is drawn over the baseline."""
    short = device_file_names(list(per_device_points))
    series = [(f"allocated by the step on {short[busiest]}, above persistent", per_device_points[busiest])] \
        if busiest else []
    series += [(f"allocated by the step on {short[device]}", points)
               for device, points in per_device_points.items() if device != busiest]
    return series


def _title(meta):
    parts = [str(meta[key]) for key in ("network", "algorithm") if meta.get(key) is not None]
    if meta.get("iteration") is not None:
        parts.append(f"iteration {meta['iteration']}")
    return "Memory of one training step" + (": " + ", ".join(parts) if parts else "")


def write_memory_report(records, out_dir, *, graph=None, node_stats=None, meta=None, persistent_bytes=0):
    """Write the memory files for one traced step into out_dir and return the summary dict.

    records: AllocationRecord list (tracing.trace(...).records). graph: the tf.Graph of the
    step, for op types, optimizer variables and tensor readers; without it categories come
    from names alone and activations.csv has its header only (readers are unknown).
    node_stats: NodeStat list, for timings and execution ranks. meta: keys copied into
    summary.json (network, algorithm, iteration, batch_size, ...).
    """
    meta = dict(meta or {})
    facts = facts_from_graph(graph)
    nodes = executed_nodes(node_stats, records)
    classifier = Classifier(facts, {node.name: node.op_type for node in nodes})
    origin = step_origin(records, node_stats or [])

    per_device_records = split_by_device(records)
    per_device_points = {device: timeline_points(recs, origin) for device, recs in per_device_records.items()}
    busiest = busiest_device(per_device_points)
    files = timeline_file_names(list(per_device_points), busiest)
    if busiest is None:
        atomic_write_text(os.path.join(out_dir, TIMELINE_FILE), "")
    for device, points in per_device_points.items():
        atomic_write_text(os.path.join(out_dir, files[device]), format_timeline(points))

    atomic_write_text(os.path.join(out_dir, "nodes.csv"), csv_text(NODE_COLUMNS, node_rows(nodes, records, classifier)))
    activations = activation_rows(records, nodes, facts.consumers, classifier) if graph is not None else []
    atomic_write_text(os.path.join(out_dir, "activations.csv"), csv_text(ACTIVATION_COLUMNS, activations))

    busiest_points = per_device_points.get(busiest, [])
    png = timeline_png(_plot_series(per_device_points, busiest), persistent_bytes,
                       peak_index(busiest_points), _title(meta))
    atomic_write_bytes(os.path.join(out_dir, "timeline.png"), png)

    summary = build_summary(
        per_device_records=per_device_records,
        per_device_points=per_device_points,
        busiest=busiest,
        classifier=classifier,
        persistent_bytes=persistent_bytes,
        origin=origin,
        duration_us=step_duration(records, node_stats or [], origin),
        node_count=len(nodes),
        activation_count=len(activations),
        timeline_files=files,
        meta=meta,
    )
    atomic_write_json(os.path.join(out_dir, SUMMARY_FILE), summary)
    return summary
