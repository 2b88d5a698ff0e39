"""The memory timeline: records in time order, the running sum of their deltas, and its peak.

bytes_in_use starts at 0 for the traced step, so it counts only what the step itself
allocated (buffers alive before the step, such as variables, are persistent memory and are
reported separately). Records with the same timestamp keep their step-stats order: Python's
sort is stable, and the step-stats order is what TensorFlow reported, so the file is
reproducible from the same RunMetadata and no tie-break invents an order TF did not show.
"""
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TimelinePoint:
    """One line of timeline.txt: time since the step start, bytes in use after the record."""

    time_us: int
    bytes_in_use: int
    delta_bytes: int
    op_name: str


def sorted_by_time(records):
    return sorted(records, key=lambda record: record.time_us)


def running_sum(records):
    """Bytes in use after each record, for records already in time order."""
    total = 0
    sums = []
    for record in records:
        total += record.delta_bytes
        sums.append(total)
    return sums


def timeline_points(records, origin_us):
    """The timeline of one device: records sorted by time, with bytes in use after each."""
    ordered = sorted_by_time(records)
    return [
        TimelinePoint(record.time_us - origin_us, in_use, record.delta_bytes, record.op_name)
        for record, in_use in zip(ordered, running_sum(ordered))
    ]


def format_timeline(points):
    """timeline.txt: `<timestamp_us> <bytes_in_use> <delta_bytes> <op_name>` per line."""
    return "".join(f"{p.time_us} {p.bytes_in_use} {p.delta_bytes} {p.op_name}\n" for p in points)


def parse_timeline(text):
    """Read timeline.txt back (op names never contain spaces in TensorFlow)."""
    points = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(" ", 3)
        if len(fields) != 4:
            raise ValueError(f"timeline line {number} has {len(fields)} fields, expected 4: {line!r}")
        time_us, in_use, delta, op_name = fields
        points.append(TimelinePoint(int(time_us), int(in_use), int(delta), op_name))
    return points


def peak_index(points):
    """Index of the first point with the largest bytes in use; None for an empty timeline."""
    if not points:
        return None
    best = 0
    for index, point in enumerate(points):
        if point.bytes_in_use > points[best].bytes_in_use:
            best = index
    return best


def peak_bytes(points):
    """The maximum of timeline.txt's second column (0 when nothing was allocated)."""
    index = peak_index(points)
    return 0 if index is None else points[index].bytes_in_use


def split_by_device(records):
    """{device: records}, devices in order of first appearance."""
    per_device = {}
    for record in records:
        per_device.setdefault(record.device, []).append(record)
    return per_device


def busiest_device(per_device_points):
    """The device with the largest peak; on a tie the one listed first."""
    if not per_device_points:
        return None
    return max(per_device_points, key=lambda device: peak_bytes(per_device_points[device]))


def short_device_name(device):
    """'/job:localhost/replica:0/task:0/device:GPU:0' -> 'GPU_0', safe in a file name."""
    tail = device.rsplit("device:", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", tail).strip("_") or "device"


def device_file_names(devices):
    """{device: short name}; falls back to the whole sanitised name when short names clash."""
    short = {device: short_device_name(device) for device in devices}
    if len(set(short.values())) == len(short):
        return short
    return {device: re.sub(r"[^A-Za-z0-9_.-]+", "_", device).strip("_") for device in devices}
