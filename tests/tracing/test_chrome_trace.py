"""trace.json of the hand-built step: every node a slice, the counters timeline.txt's numbers."""
import dataclasses
import json
from collections import Counter

import pytest

from tests.tracing import handmade_step as step
from tests.tracing.chrome_trace_checks import check_trace, read_trace, slice_counts
from tests.tracing.report_checks import ISSUE_NODE_COLUMNS, read_csv
from tracing.chrome_trace import STEP_COUNTER, TOTAL_COUNTER, nesting_lanes, trace_text
from tracing.records import AllocationRecord
from tracing.report import write_memory_report

META = {"network": "tiny_mlp", "sequence": "fcTanh", "algorithm": "BP", "iteration": 7, "batch_size": 4}
PERSISTENT = 1000
GPU = "/job:localhost/replica:0/task:0/device:GPU:0"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory")
    summary = write_memory_report(step.records(), out, node_stats=step.node_stats(), meta=META,
                                  persistent_bytes=PERSISTENT)
    return out, summary, read_trace(out / "trace.json")


def _timeline(path):
    """(time, bytes in use) per line of timeline.txt."""
    return [tuple(int(field) for field in line.split(" ")[:2]) for line in path.read_text().splitlines()]


def test_one_slice_per_executed_node_at_its_step_stats_times(report):
    out, _, trace = report
    rows = read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS)
    assert slice_counts(trace) == Counter(row["node_name"] for row in rows)
    assert all(count == 1 for count in slice_counts(trace).values())
    expected = {node.name: (node.all_start_micros - step.T0, node.run_time_us, node.op_type)
                for node in step.node_stats()}
    assert {event["name"]: (event["ts"], event["dur"], event["args"]["op_type"]) for event in trace.slices} == expected


def test_slices_carry_the_node_table(report):
    out, _, trace = report
    by_name = {event["name"]: event for event in trace.slices}
    for row in read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS):
        event = by_name[row["node_name"]]
        assert event["cat"] == row["category"]
        args = event["args"]
        assert (args["category"], args["phase"], args["device"]) == (row["category"], row["phase"], row["device"])
        for column in ("rank", "bytes_allocated", "peak_bytes_during_node", "active_bytes_before_node"):
            assert args[column] == int(row[column]), column


def test_one_process_per_device_one_thread_per_executor_thread(report):
    _, _, trace = report
    assert list(trace.process_names.values()) == [step.CPU]
    threads = {trace.thread_names[event["tid"]]: event["args"]["thread_id"] for event in trace.slices}
    assert threads == {f"thread {step.MAIN_THREAD}": step.MAIN_THREAD, f"thread {step.INPUT_THREAD}": step.INPUT_THREAD}
    assert trace.slices[0]["name"] == "_SOURCE"  # in time order


def test_step_counter_is_timeline_txt_and_peaks_at_summary_peak(report):
    out, summary, trace = report
    pid = next(iter(trace.process_names))
    points = trace.counters[(pid, f"{STEP_COUNTER} bytes")]
    assert points[0] == (0, 0)  # nothing in use when the step starts
    assert points[1:] == _timeline(out / "timeline.txt")
    assert trace.counter_max(pid, f"{STEP_COUNTER} bytes") == summary["peak_bytes"] == step.PEAK_BYTES


def test_counter_with_persistent_memory_peaks_at_the_summary_total(report):
    _, summary, trace = report
    pid = next(iter(trace.process_names))
    points = trace.counters[(pid, f"{TOTAL_COUNTER} bytes")]
    assert points[0] == (0, PERSISTENT)
    assert trace.counter_max(pid, f"{TOTAL_COUNTER} bytes") == summary["peak_total_bytes"] == \
        step.PEAK_BYTES + PERSISTENT


def test_one_instant_at_the_peak_naming_its_op(report):
    _, summary, trace = report
    [peak] = trace.instants
    assert (peak["args"]["op"], peak["ts"]) == (summary["peak_op"], summary["peak_time_us"]) == \
        (step.DH, step.PEAK_TIME_US)
    assert step.DH in peak["name"] and peak["args"]["bytes"] == step.PEAK_BYTES


def test_the_trace_says_which_run_it_is(report):
    out, _, _ = report
    other = json.loads((out / "trace.json").read_text())["otherData"]
    assert {key: other[key] for key in META} == META
    assert other["step_start_unix_us"] == step.T0


def test_overlapping_nodes_of_one_thread_go_to_a_second_track(tmp_path):
    # loss/Mean waiting from 40 to 58 spans dW2 (50-54) and starts before dh ends (55-59): as in real traces.
    stats = [dataclasses.replace(node, run_time_us=18) if node.name == step.MEAN else node
             for node in step.node_stats()]
    write_memory_report(step.records(), tmp_path, node_stats=stats)
    trace = read_trace(tmp_path / "trace.json")  # nesting is checked there
    assert all(count == 1 for count in slice_counts(trace).values()) and len(trace.slices) == len(stats)
    tracks = {event["name"]: trace.thread_names[event["tid"]] for event in trace.slices}
    assert tracks[step.MEAN] == tracks[step.DW2] == f"thread {step.MAIN_THREAD}"
    assert tracks[step.DH] == f"thread {step.MAIN_THREAD}, overlapping ops 1"


def test_nesting_lanes():
    # [0,10) holds [2,5); [4,12) overlaps [0,10) without nesting; [10,11) and [12,13) follow [0,10).
    assert nesting_lanes([(0, 10), (2, 5), (4, 12), (12, 13), (10, 11)]) == [0, 0, 1, 0, 0]
    assert nesting_lanes([(0, 5), (0, 5), (5, 5), (1, 6), (2, 7)]) == [0, 0, 0, 1, 2]
    assert nesting_lanes([]) == []


def test_every_device_has_its_counter_and_the_busiest_the_persistent_one(tmp_path):
    gpu_records = [AllocationRecord(step.T0 + 5, 1000, "forward/x", GPU, "GPU_0_bfc"),
                   AllocationRecord(step.T0 + 9, -1000, "forward/x", GPU, "GPU_0_bfc")]
    summary = write_memory_report(step.records() + gpu_records, tmp_path, persistent_bytes=7)
    trace = read_trace(tmp_path / "trace.json")
    pids = {name: pid for pid, name in trace.process_names.items()}
    assert set(pids) == {step.CPU, GPU} and summary["busiest_device"] == GPU
    assert trace.counter_max(pids[step.CPU], f"{STEP_COUNTER} bytes") == step.PEAK_BYTES
    assert trace.counter_max(pids[GPU], f"{STEP_COUNTER} bytes") == summary["peak_bytes"] == 1000
    assert trace.counter_max(pids[GPU], f"{TOTAL_COUNTER} bytes") == summary["peak_total_bytes"] == 1007
    assert (pids[step.CPU], f"{TOTAL_COUNTER} bytes") not in trace.counters
    assert [event["pid"] for event in trace.instants] == [pids[GPU]]


def test_an_empty_step_is_a_valid_empty_trace(tmp_path):
    write_memory_report([], tmp_path)
    trace = read_trace(tmp_path / "trace.json")
    assert not trace.slices and not trace.instants and not trace.counters


def test_the_text_is_the_trace():
    trace = {"traceEvents": [{"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "a \"b\"\n"}}],
             "displayTimeUnit": "ms", "otherData": {"network": "x"}}
    assert json.loads(trace_text(trace)) == trace
    check_trace(json.loads(trace_text(trace)))
    assert json.loads(trace_text({"traceEvents": []})) == {"traceEvents": []}
