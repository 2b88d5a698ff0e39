"""trace.json: one traced step in the Chrome Trace Event format, for ui.perfetto.dev and chrome://tracing.

One process per device (pid), one thread per executor thread of the step stats (tid); one
complete event ("X") per executed node, its category the classifier's; a counter ("C") of the
bytes the step has in use, on the busiest device also one with the persistent memory added;
an instant event ("i") at the peak naming its op. Timestamps are µs since the step started,
the times of timeline.txt.

Perfetto drops complete events of one thread that overlap without nesting, and the step stats
have such nodes (an op that waits, such as loss/Mean, spans the ops that run meanwhile on its
thread): those go to a second track of the same thread ("overlapping ops"), so that every node
keeps its slice. pids and tids are numbered from 1 in one sequence: Perfetto treats 0 as the
kernel's idle task, and an id used twice would merge tracks.
"""
import itertools
import json

from tracing.timeline import peak_index

TRACE_FILE = "trace.json"
STEP_COUNTER = "memory in use by the step"
TOTAL_COUNTER = "memory in use with persistent"
#: Summary keys the trace carries in otherData, to say which run it is when it travels alone.
RUN_KEYS = ("network", "sequence", "algorithm", "batch_size", "dataset", "iteration")


def nesting_lanes(intervals):
    """A lane per (start, end) so that the intervals of a lane are disjoint or nested, lane 0 first."""
    lanes, open_ends = [0] * len(intervals), []
    # Parents before their children: by start, the longest first.
    for index in sorted(range(len(intervals)), key=lambda i: (intervals[i][0], -intervals[i][1])):
        start, end = intervals[index]
        for lane, ends in enumerate(open_ends):
            while ends and ends[-1] <= start:
                ends.pop()
            if not ends or end <= ends[-1]:
                break
        else:
            lane = len(open_ends)
            open_ends.append([])
        open_ends[lane].append(end)
        lanes[index] = lane
    return lanes


def metadata(kind, pid, value, tid=None):
    """A metadata event ("M"): process_name, process_sort_index, thread_name or thread_sort_index."""
    key = "name" if kind.endswith("_name") else "sort_index"
    event = {"ph": "M", "name": kind, "pid": pid}
    if tid is not None:
        event["tid"] = tid
    event["args"] = {key: value}
    return event


def counter(name, pid, time_us, value):
    return {"ph": "C", "name": name, "cat": "memory", "pid": pid, "ts": time_us, "args": {"bytes": value}}


def step_trace(nodes, rows, per_device_points, *, origin, busiest, persistent_bytes=0, meta=None):
    """The trace of one step as a dict: {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}.

    nodes: the executed NodeStats in execution order; rows: their NodeRows (nodes.csv), in the
    same order. per_device_points: {device: timeline points}, times already since `origin`.
    """
    ids = itertools.count(1)
    devices = list(dict.fromkeys([*per_device_points, *(node.device for node in nodes)]))
    pids = {device: next(ids) for device in devices}
    events = [event for index, device in enumerate(devices)
              for event in (metadata("process_name", pids[device], device),
                            metadata("process_sort_index", pids[device], index))]
    slices, tid_of_node = _slices(nodes, rows, origin, pids, ids, events)
    for device, points in per_device_points.items():
        events.append(counter(STEP_COUNTER, pids[device], 0, 0))
        events += [counter(STEP_COUNTER, pids[device], point.time_us, point.bytes_in_use) for point in points]
        if device == busiest:
            events.append(counter(TOTAL_COUNTER, pids[device], 0, persistent_bytes))
            events += [counter(TOTAL_COUNTER, pids[device], point.time_us, point.bytes_in_use + persistent_bytes)
                       for point in points]
    peak = peak_index(per_device_points.get(busiest, []))
    if peak is not None:
        point = per_device_points[busiest][peak]
        pid = pids[busiest]
        events.append({"ph": "i", "s": "p", "name": f"peak: {point.op_name}", "cat": "memory", "pid": pid,
                       "tid": tid_of_node.get(point.op_name, pid), "ts": point.time_us,
                       "args": {"op": point.op_name, "bytes": point.bytes_in_use,
                                "total_bytes": point.bytes_in_use + persistent_bytes}})
    other = {key: value for key, value in (meta or {}).items() if key in RUN_KEYS and value is not None}
    return {"traceEvents": events + slices, "displayTimeUnit": "ms",
            "otherData": {**other, "step_start_unix_us": origin, "persistent_bytes": persistent_bytes}}


def _slices(nodes, rows, origin, pids, ids, events):
    """The nodes' complete events, in (start, longest first) order; thread metadata is added to events."""
    threads = {}
    for node, row in zip(nodes, rows):
        threads.setdefault((node.device, node.thread_id), []).append((node, row))
    slices, tid_of_node = [], {}
    for (device, thread_id), members in threads.items():
        lanes = nesting_lanes([(node.all_start_micros, node.end_micros) for node, _ in members])
        tids = {}
        for lane in sorted(set(lanes)):
            tids[lane] = next(ids)
            name = f"thread {thread_id}" + (f", overlapping ops {lane}" if lane else "")
            events += [metadata("thread_name", pids[device], name, tids[lane]),
                       metadata("thread_sort_index", pids[device], tids[lane], tids[lane])]
        for (node, row), lane in zip(members, lanes):
            tid_of_node[node.name] = tids[lane]
            slices.append({
                "ph": "X", "name": node.name, "cat": row.category, "pid": pids[device], "tid": tids[lane],
                "ts": node.all_start_micros - origin, "dur": node.run_time_us,
                "args": {"op_type": node.op_type, "device": device, "thread_id": thread_id, "rank": row.rank,
                         "category": row.category, "phase": row.phase, "bytes_allocated": row.bytes_allocated,
                         "peak_bytes_during_node": row.peak_bytes_during_node,
                         "active_bytes_before_node": row.active_bytes_before_node},
            })
    slices.sort(key=lambda event: (event["ts"], -event["dur"]))
    return slices, tid_of_node


def trace_text(trace):
    """The trace as JSON text, one event per line (diffable, greppable; smaller than indented)."""
    events = ",\n".join(json.dumps(event) for event in trace["traceEvents"])
    rest = "".join(f",\n{json.dumps(key)}: {json.dumps(value, sort_keys=True)}"
                   for key, value in sorted(trace.items()) if key != "traceEvents")
    return '{"traceEvents": [\n' + events + "\n]" + rest + "}\n"
