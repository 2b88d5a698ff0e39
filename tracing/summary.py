"""summary.json: the figures of one traced step in one small dict."""
from tracing.buffers import pair_buffers
from tracing.categories import CATEGORIES, CATEGORY_PHASE, PHASES
from tracing.timeline import peak_bytes, peak_index

# Keys every summary has even when the caller's meta does not name them.
META_DEFAULTS = {"network": None, "algorithm": None, "iteration": None, "batch_size": None}


def step_origin(records, nodes):
    """The start of the traced step in TF's clock: its first node's start, else first record."""
    times = [node.all_start_micros for node in nodes] + [record.time_us for record in records]
    return min(times) if times else 0


def step_duration(records, nodes, origin):
    ends = [node.end_micros for node in nodes] + [record.time_us for record in records]
    return max(ends) - origin if ends else 0


def device_summary(records, points):
    allocated_by_allocator = {}
    for record in records:
        if record.delta_bytes > 0:
            previous = allocated_by_allocator.get(record.allocator, 0)
            allocated_by_allocator[record.allocator] = previous + record.delta_bytes
    main_allocator = max(allocated_by_allocator, key=allocated_by_allocator.get) if allocated_by_allocator else ""
    return {
        "peak_bytes": peak_bytes(points),
        "allocations": sum(1 for record in records if record.delta_bytes > 0),
        "frees": sum(1 for record in records if record.delta_bytes < 0),
        # The allocator that handed out most bytes on this device; all of them are listed too.
        "allocator": main_allocator,
        "allocators": sorted({record.allocator for record in records}),
        "final_bytes": points[-1].bytes_in_use if points else 0,
    }


def bytes_at_peak(points, classifier):
    """{category: bytes}, {phase: bytes} of what was in use at the peak.

    A free is recorded on the op that allocated the buffer, so summing the deltas up to the
    peak per allocating op gives the live bytes each op owned at that moment.
    """
    by_category = dict.fromkeys(CATEGORIES, 0)
    index = peak_index(points)
    if index is not None:
        for point in points[: index + 1]:
            by_category[classifier.category(point.op_name)] += point.delta_bytes
    by_phase = dict.fromkeys(PHASES, 0)
    for category, count in by_category.items():
        by_phase[CATEGORY_PHASE[category]] += count
    return by_category, by_phase


def unfreed_by_category(records, classifier):
    """{category: bytes} of the buffers still allocated when the step ended.

    Besides fetched outputs, these are typically weight copies: a resource variable written
    while an earlier read of it is still in use is copied, and the old buffer is freed
    outside the step's records.
    """
    by_category = dict.fromkeys(CATEGORIES, 0)
    for buffer in pair_buffers(records):
        if buffer.free_us is None:
            by_category[classifier.category(buffer.owner)] += buffer.size_bytes
    return by_category


def build_summary(*, per_device_records, per_device_points, busiest, classifier, persistent_bytes,
                  origin, duration_us, node_count, activation_count, timeline_files, meta):
    points = per_device_points.get(busiest, [])
    index = peak_index(points)
    by_category, by_phase = bytes_at_peak(points, classifier)
    summary = {
        "peak_bytes": peak_bytes(points),
        "persistent_bytes": int(persistent_bytes),
        "peak_total_bytes": peak_bytes(points) + int(persistent_bytes),
        "peak_time_us": points[index].time_us if index is not None else 0,
        "peak_op": points[index].op_name if index is not None else "",
        "final_bytes": points[-1].bytes_in_use if points else 0,
        "peak_bytes_by_category": by_category,
        "peak_bytes_by_phase": by_phase,
        "unfreed_bytes_by_category": unfreed_by_category(per_device_records.get(busiest, []), classifier),
        "busiest_device": busiest or "",
        "devices": {
            device: device_summary(per_device_records[device], per_device_points[device])
            for device in per_device_points
        },
        "timeline_files": timeline_files,
        "step_start_unix_us": origin,
        "step_duration_us": duration_us,
        "nodes": node_count,
        "activations": activation_count,
    }
    clashes = sorted(set(meta or {}) & set(summary))
    if clashes:
        raise ValueError(f"meta keys {clashes} would overwrite figures the tracer computes; rename them")
    summary.update(META_DEFAULTS)
    summary.update(meta or {})
    return summary
