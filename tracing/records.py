"""Allocation records and node statistics: plain values read out of TensorFlow's step stats.

Everything the tracer writes is computed from these two kinds of value, so the writers can be
tested on hand-built records without TensorFlow. Reading step stats needs no TensorFlow import
either: the protos are read through their attributes only.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class AllocationRecord:
    """One allocation (delta_bytes > 0) or free (delta_bytes < 0) seen in the traced step.

    time_us is TensorFlow's own clock (microseconds since the epoch), the same clock as
    NodeStat.all_start_micros. A free is recorded on the op that allocated the buffer, even
    when another op (one that forwarded the buffer) used it last.
    """

    time_us: int
    delta_bytes: int
    op_name: str
    device: str
    allocator: str


@dataclass(frozen=True)
class OutputSlot:
    """Where one output of a node lives; ptr identifies the buffer (0 when TF did not say)."""

    slot: int
    allocated_bytes: int
    requested_bytes: int
    ptr: int


@dataclass(frozen=True)
class NodeStat:
    """Timing of one executed node; op_type is the runtime kernel (e.g. _MklMatMul), or ''.

    thread_id is the executor thread that ran it, as step stats number them (0 when unknown).
    """

    name: str
    device: str
    op_type: str
    all_start_micros: int
    run_time_us: int
    outputs: tuple = ()
    thread_id: int = 0

    @property
    def end_micros(self):
        return self.all_start_micros + self.run_time_us


def is_pseudo_device(device):
    # GPU tracing adds per-stream and memcpy views of the same kernels; they carry no memory of
    # their own and would count every op twice.
    last = device.rstrip("/").rsplit("/", 1)[-1]
    return last.startswith("stream:") or last == "memcpy"


def records_from_step_stats(step_stats):
    """All allocation records of a StepStats proto, in step-stats order (not sorted by time).

    The order is devices, then nodes, then allocators, then records as TensorFlow listed them;
    timeline.sorted_by_time keeps it for records with the same timestamp.
    """
    records = []
    for dev_stats in step_stats.dev_stats:
        if is_pseudo_device(dev_stats.device):
            continue
        for node in dev_stats.node_stats:
            for memory in node.memory:
                for record in memory.allocation_records:
                    records.append(
                        AllocationRecord(
                            time_us=int(record.alloc_micros),
                            delta_bytes=int(record.alloc_bytes),
                            op_name=node.node_name,
                            device=dev_stats.device,
                            allocator=memory.allocator_name,
                        )
                    )
    return records


def node_stats_from_step_stats(step_stats):
    """One NodeStat per executed node, in step-stats order."""
    nodes = []
    for dev_stats in step_stats.dev_stats:
        if is_pseudo_device(dev_stats.device):
            continue
        for node in dev_stats.node_stats:
            outputs = tuple(
                OutputSlot(
                    slot=int(output.slot),
                    allocated_bytes=int(output.tensor_description.allocation_description.allocated_bytes),
                    requested_bytes=int(output.tensor_description.allocation_description.requested_bytes),
                    ptr=int(output.tensor_description.allocation_description.ptr),
                )
                for output in node.output
            )
            nodes.append(
                NodeStat(
                    name=node.node_name,
                    device=dev_stats.device,
                    op_type=op_type_from_label(node.timeline_label),
                    all_start_micros=int(node.all_start_micros),
                    run_time_us=int(node.all_end_rel_micros),
                    outputs=outputs,
                    thread_id=int(node.thread_id),
                )
            )
    return nodes


def op_type_from_label(label):
    """'forward/x/Relu = _MklNativeFusedMatMul(a, b)' -> '_MklNativeFusedMatMul'; '' if absent.

    The label names the kernel that really ran, which matters after Grappler fused or
    rewrote a node (its name then no longer says what it computes).
    """
    if " = " not in label:
        return ""
    right = label.split(" = ", 1)[1]
    return right.split("(", 1)[0].strip()
