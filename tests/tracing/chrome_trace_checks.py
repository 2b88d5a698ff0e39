"""A strict reader of Chrome Trace Event files, for the tests of trace.json.

Perfetto's own reader (the `perfetto` package's TraceProcessor) needs a trace_processor_shell
binary it downloads on first use, which an offline machine cannot do; so these checks hold the
files to the format's rules (the Trace Event Format document) and to what Perfetto's JSON
importer needs beyond them: ids from 1 (0 is the idle task), a tid in one process only,
complete events of one thread that nest, numeric counter values.
"""
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

METADATA = {"process_name": "name", "process_sort_index": "sort_index",
            "thread_name": "name", "thread_sort_index": "sort_index"}


@dataclass
class ParsedTrace:
    slices: list = field(default_factory=list)  # the "X" events
    counters: dict = field(default_factory=lambda: defaultdict(list))  # (pid, name) -> [(ts, value)]
    instants: list = field(default_factory=list)
    process_names: dict = field(default_factory=dict)  # pid -> name
    thread_names: dict = field(default_factory=dict)  # tid -> name
    process_of_thread: dict = field(default_factory=dict)  # tid -> pid

    def counter_max(self, pid, name):
        return max(value for _, value in self.counters[(pid, name)])


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def read_trace(path):
    with open(path, encoding="utf-8") as handle:
        return check_trace(json.load(handle))


def check_trace(trace):
    """Assert that `trace` is a valid JSON-object-form trace; return its events sorted by kind."""
    assert isinstance(trace, dict) and isinstance(trace.get("traceEvents"), list), "not the JSON object form"
    assert trace.get("displayTimeUnit", "ms") in ("ms", "ns")
    parsed = ParsedTrace()
    for event in trace["traceEvents"]:
        assert isinstance(event, dict) and isinstance(event.get("name"), str) and event["name"], event
        assert _positive_id(event.get("pid")), event
        phase = event.get("ph")
        if phase == "M":
            _metadata(event, parsed)
            continue
        assert _number(event.get("ts")) and event["ts"] >= 0, event
        assert isinstance(event.get("cat", ""), str) and isinstance(event.get("args", {}), dict), event
        if phase == "X":
            assert _positive_id(event.get("tid")) and _number(event.get("dur")) and event["dur"] >= 0, event
            _thread_in(event, parsed)
            parsed.slices.append(event)
        elif phase == "C":
            assert event["args"] and all(_number(value) for value in event["args"].values()), event
            for key, value in event["args"].items():
                parsed.counters[(event["pid"], f"{event['name']} {key}")].append((event["ts"], value))
        elif phase == "i":
            assert event.get("s", "t") in ("g", "p", "t") and _positive_id(event.get("tid")), event
            parsed.instants.append(event)
        else:
            raise AssertionError(f"unexpected phase {phase!r}: {event}")
    _check_ids(parsed)
    _check_nesting(parsed.slices)
    return parsed


def _metadata(event, parsed):
    key = METADATA.get(event["name"])
    assert key is not None and isinstance(event.get("args"), dict) and key in event["args"], event
    value = event["args"][key]
    assert isinstance(value, str) if key == "name" else isinstance(value, int) and not isinstance(value, bool), event
    if event["name"].startswith("thread_"):
        _thread_in(event, parsed)
        if event["name"] == "thread_name":
            parsed.thread_names[event["tid"]] = value
    elif event["name"] == "process_name":
        assert event["pid"] not in parsed.process_names, f"process {event['pid']} named twice"
        parsed.process_names[event["pid"]] = value


def _thread_in(event, parsed):
    assert _positive_id(event.get("tid")), event
    owner = parsed.process_of_thread.setdefault(event["tid"], event["pid"])
    assert owner == event["pid"], f"tid {event['tid']} in processes {owner} and {event['pid']}"


def _check_ids(parsed):
    used_pids = {event["pid"] for event in parsed.slices + parsed.instants} | {pid for pid, _ in parsed.counters}
    assert used_pids <= set(parsed.process_names), "a process without a process_name"
    assert {event["tid"] for event in parsed.slices} <= set(parsed.thread_names), "a thread without a thread_name"
    assert not set(parsed.process_of_thread) & set(parsed.process_names), "a tid that is also a pid"


def _check_nesting(slices):
    """Within a thread, any two complete events are disjoint or one holds the other."""
    by_thread = defaultdict(list)
    for event in slices:
        by_thread[event["tid"]].append((event["ts"], event["ts"] + event["dur"], event["name"]))
    for spans in by_thread.values():
        spans.sort(key=lambda span: (span[0], -span[1]))
        open_spans = []
        for start, end, name in spans:
            while open_spans and open_spans[-1][1] <= start:
                open_spans.pop()
            assert not open_spans or end <= open_spans[-1][1], f"{name} overlaps {open_spans[-1][2]} without nesting"
            open_spans.append((start, end, name))


def slice_counts(parsed, pid=None):
    """How many complete events each name has (in one process, or all)."""
    return Counter(event["name"] for event in parsed.slices if pid is None or event["pid"] == pid)


def tensorflow_op_slices(run_metadata, origin):
    """(name, ts since origin, dur) of every op of TensorFlow's own Chrome export of a step
    (client/timeline.py, reading the same step stats), sorted."""
    from tensorflow.python.client import timeline
    theirs = json.loads(timeline.Timeline(run_metadata.step_stats).generate_chrome_trace_format())
    return sorted((event["args"]["name"], event["ts"] - origin, event["dur"])
                  for event in theirs["traceEvents"] if event.get("ph") == "X" and event.get("cat") == "Op")


def slice_tuples(parsed):
    """(name, ts, dur) of the complete events of a parsed trace, sorted."""
    return sorted((event["name"], event["ts"], event["dur"]) for event in parsed.slices)
