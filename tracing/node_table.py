"""nodes.csv: one row per executed node, in execution order, with the memory around it."""
import bisect
from dataclasses import dataclass

from tracing.records import NodeStat
from tracing.timeline import running_sum, sorted_by_time, split_by_device

NODE_COLUMNS = (
    "rank",
    "node_name",
    "category",
    "phase",
    "device",
    "run_time_us",
    "bytes_allocated",
    "peak_bytes_during_node",
    "active_bytes_before_node",
)


@dataclass(frozen=True)
class NodeRow:
    rank: int
    node_name: str
    category: str
    phase: str
    device: str
    run_time_us: int
    bytes_allocated: int
    peak_bytes_during_node: int
    active_bytes_before_node: int

    def as_csv_row(self):
        return [getattr(self, column) for column in NODE_COLUMNS]


def executed_nodes(node_stats, records):
    """Nodes in execution order (start time; ties keep step-stats order), one per name.

    Without node stats the nodes are the ops named in the records, started at their first
    record and with an unknown (0) run time.
    """
    if node_stats is None:
        first_seen = {}
        for record in sorted_by_time(records):
            first_seen.setdefault(record.op_name, NodeStat(record.op_name, record.device, "", record.time_us, 0))
        node_stats = list(first_seen.values())
    unique = {}
    for node in node_stats:
        unique.setdefault(node.name, node)
    return sorted(unique.values(), key=lambda node: node.all_start_micros)


def execution_ranks(nodes):
    """{node name: rank}, rank 0 for the first node to start."""
    return {node.name: rank for rank, node in enumerate(nodes)}


class _DeviceMemory:
    """Bytes in use on one device, looked up by time."""

    def __init__(self, records):
        ordered = sorted_by_time(records)
        self.times = [record.time_us for record in ordered]
        self.sums = running_sum(ordered)

    def before(self, time_us):
        index = bisect.bisect_left(self.times, time_us)
        return self.sums[index - 1] if index else 0

    def peak_between(self, start_us, end_us):
        low = bisect.bisect_left(self.times, start_us)
        high = bisect.bisect_right(self.times, end_us)
        return max([self.before(start_us)] + self.sums[low:high])


def node_rows(nodes, records, classifier):
    memory = {device: _DeviceMemory(device_records) for device, device_records in split_by_device(records).items()}
    allocated = {}
    for record in records:
        if record.delta_bytes > 0:
            key = (record.op_name, record.device)
            allocated[key] = allocated.get(key, 0) + record.delta_bytes
    empty = _DeviceMemory([])
    rows = []
    for rank, node in enumerate(nodes):
        device_memory = memory.get(node.device, empty)
        rows.append(
            NodeRow(
                rank=rank,
                node_name=node.name,
                category=classifier.category(node.name),
                phase=classifier.phase(node.name),
                device=node.device,
                run_time_us=node.run_time_us,
                bytes_allocated=allocated.get((node.name, node.device), 0),
                peak_bytes_during_node=device_memory.peak_between(node.all_start_micros, node.end_micros),
                active_bytes_before_node=device_memory.before(node.all_start_micros),
            )
        )
    return rows
