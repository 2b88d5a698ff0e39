"""Several runs' trace.json in one Chrome trace, each run one process, so that runs scroll side by side.

Each run keeps its times (µs since its own step started), so all steps start at 0. A run's
devices become one process: its threads and counters are prefixed with the device's short name
when the run had several. pids and tids are numbered anew from 1 in one sequence, as
tracing/chrome_trace.py numbers them, so no two runs share an id.
"""
import itertools

from tracing.chrome_trace import metadata
from tracing.timeline import device_file_names


class NotATrace(ValueError):
    """Events that are not the Chrome trace events a traced run writes."""


def check_events(trace):
    """The trace's events, after checking what merging reads of them; NotATrace says what is wrong."""
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        raise NotATrace("no traceEvents list")
    for number, event in enumerate(events):
        ok = isinstance(event, dict) and isinstance(event.get("ph"), str) and isinstance(event.get("name"), str) \
            and _is_id(event.get("pid")) and ("tid" not in event or _is_id(event["tid"]))
        if ok and event["ph"] == "M" and event["name"] in ("process_name", "thread_name"):
            ok = isinstance(event.get("args"), dict) and isinstance(event["args"].get("name"), str) and \
                (event["name"] == "process_name" or "tid" in event)
        if not ok:
            raise NotATrace(f"event {number} is not a trace event of a traced run: {str(event)[:80]}")
    return events


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def runs_side_by_side(named_traces):
    """One trace dict of [(run name, trace dict)]: a process per run, named so, in the order given."""
    ids = itertools.count(1)
    events = []
    for index, (name, trace) in enumerate(named_traces):
        pid = next(ids)
        events += [metadata("process_name", pid, name), metadata("process_sort_index", pid, index)]
        events += _as_one_process(check_events(trace), pid, ids)
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def _as_one_process(events, pid, ids):
    devices = {event["pid"]: event["args"]["name"] for event in events
               if event["ph"] == "M" and event["name"] == "process_name"}
    short = device_file_names(list(devices.values()))

    def prefixed(old_pid, text):
        return f"{short[devices[old_pid]]} {text}" if len(devices) > 1 and old_pid in devices else text

    tids = {}

    def tid(old_pid, old_tid):
        if (old_pid, old_tid) not in tids:
            tids[(old_pid, old_tid)] = next(ids)
        return tids[(old_pid, old_tid)]

    moved = []
    for event in events:
        if event["ph"] == "M":
            # Process metadata is the run's now; thread order is the order threads appear in.
            if event["name"] == "thread_name":
                new = tid(event["pid"], event["tid"])
                moved += [metadata("thread_name", pid, prefixed(event["pid"], event["args"]["name"]), new),
                          metadata("thread_sort_index", pid, new, new)]
            continue
        copy = dict(event, pid=pid)
        if "tid" in event:
            copy["tid"] = tid(event["pid"], event["tid"])
        if event["ph"] == "C":
            copy["name"] = prefixed(event["pid"], event["name"])
        moved.append(copy)
    return moved
