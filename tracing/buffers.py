"""Buffers: an allocation record paired with the free that released it, if any.

TensorFlow records the free on the op that allocated the buffer, with the same byte count, so
a free is matched to the earliest still-open allocation of the same op, device and size. Which
of two equal-sized buffers of one op was freed first cannot be told from the records; taking
the oldest keeps lifetimes nested the way TF's executor releases them in practice.
"""
from collections import deque
from dataclasses import dataclass

from tracing.timeline import sorted_by_time


@dataclass(frozen=True)
class Buffer:
    owner: str
    device: str
    size_bytes: int
    alloc_us: int
    free_us: object  # int, or None when the buffer outlived the traced step
    ordinal: int  # 0 for the owner's first buffer in time order, 1 for its second, ...


def pair_buffers(records):
    """Buffers in allocation order. Frees with no allocation in the step are ignored."""
    open_allocations = {}
    allocations = []
    frees = {}
    for record in sorted_by_time(records):
        key = (record.op_name, record.device, abs(record.delta_bytes))
        if record.delta_bytes > 0:
            open_allocations.setdefault(key, deque()).append(len(allocations))
            allocations.append(record)
        elif record.delta_bytes < 0 and open_allocations.get(key):
            frees[open_allocations[key].popleft()] = record.time_us
    ordinals = {}
    buffers = []
    for index, record in enumerate(allocations):
        ordinal = ordinals.get(record.op_name, 0)
        ordinals[record.op_name] = ordinal + 1
        buffers.append(
            Buffer(record.op_name, record.device, record.delta_bytes, record.time_us, frees.get(index), ordinal)
        )
    return buffers


def unfreed_bytes(records):
    """Bytes of the buffers still allocated when the step ended."""
    return sum(buffer.size_bytes for buffer in pair_buffers(records) if buffer.free_us is None)
