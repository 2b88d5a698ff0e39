import json

import pytest

from tests.tracing import handmade_step as step
from tests.tracing.report_checks import (
    ISSUE_ACTIVATION_COLUMNS,
    ISSUE_NODE_COLUMNS,
    check_png,
    read_csv,
    timeline_column,
)
from tracing.records import AllocationRecord
from tracing.report import write_memory_report

META = {"network": "tiny_mlp", "algorithm": "BP", "iteration": 7, "batch_size": 4}
GPU = "/job:localhost/replica:0/task:0/device:GPU:0"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory")
    summary = write_memory_report(step.records(), out, node_stats=step.node_stats(), meta=META, persistent_bytes=1000)
    return out, summary


def test_files_are_written(report):
    out, _ = report
    assert sorted(p.name for p in out.iterdir()) == [
        "activations.csv", "blocks.csv", "nodes.csv", "summary.json", "timeline.png", "timeline.txt",
        "timeline_by_category.png", "trace.json"]


def test_timeline_file_is_the_running_sum(report):
    out, _ = report
    in_use = timeline_column(out / "timeline.txt", 1)
    deltas = timeline_column(out / "timeline.txt", 2)
    assert timeline_column(out / "timeline.txt", 0)[0] == 11  # since the step's first node
    running = 0
    for delta, value in zip(deltas, in_use):
        running += delta
        assert value == running
    assert max(in_use) == step.PEAK_BYTES


def test_summary_figures(report):
    out, summary = report
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["peak_bytes"] == step.PEAK_BYTES == max(timeline_column(out / "timeline.txt", 1))
    assert summary["persistent_bytes"] == 1000
    assert summary["peak_total_bytes"] == step.PEAK_BYTES + 1000
    assert summary["final_bytes"] == step.FINAL_BYTES
    assert (summary["peak_time_us"], summary["peak_op"]) == (step.PEAK_TIME_US, step.DH)
    # In use at the peak: forward buffers 128 + 48 + 4 (loss) and gradients 96 + 128.
    assert summary["peak_bytes_by_category"] == {
        "activation": 180, "gradient": 224, "update": 0, "optimizer_state": 0, "input": 0, "other": 0}
    assert summary["peak_bytes_by_phase"] == {"forward": 180, "backward": 224, "update": 0, "other": 0}
    assert summary["unfreed_bytes_by_category"]["activation"] == step.FINAL_BYTES  # the fetched loss
    assert sum(summary["unfreed_bytes_by_category"].values()) == step.FINAL_BYTES
    assert summary["devices"] == {step.CPU: {
        "peak_bytes": step.PEAK_BYTES, "allocations": 8, "frees": 7, "allocator": "mklcpu",
        "allocators": ["mklcpu"], "final_bytes": step.FINAL_BYTES}}
    assert {k: summary[k] for k in META} == META
    assert summary["step_start_unix_us"] == step.T0
    assert summary["step_duration_us"] == 74


def test_nodes_csv(report):
    out, _ = report
    rows = read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS)
    assert [int(r["rank"]) for r in rows] == list(range(14))
    by_name = {r["node_name"]: r for r in rows}
    assert by_name[step.DH]["peak_bytes_during_node"] == str(step.PEAK_BYTES)
    assert by_name[step.INPUT]["category"] == "input"
    assert by_name[step.APPLY_W1]["phase"] == "update"


def test_activations_csv_without_graph_has_header_only(report):
    out, summary = report
    assert read_csv(out / "activations.csv", ISSUE_ACTIVATION_COLUMNS) == []
    assert summary["activations"] == 0


def test_png_opens_with_the_expected_size(report):
    check_png(report[0] / "timeline.png")


def test_other_devices_get_their_own_timeline(tmp_path):
    gpu_records = [AllocationRecord(step.T0 + 5, 1000, "forward/x", GPU, "GPU_0_bfc"),
                   AllocationRecord(step.T0 + 9, -1000, "forward/x", GPU, "GPU_0_bfc")]
    summary = write_memory_report(step.records() + gpu_records, tmp_path)
    assert summary["busiest_device"] == GPU
    assert summary["peak_bytes"] == 1000
    assert summary["timeline_files"] == {GPU: "timeline.txt", step.CPU: "timeline_CPU_0.txt"}
    assert max(timeline_column(tmp_path / "timeline_CPU_0.txt", 1)) == step.PEAK_BYTES
    assert summary["devices"][step.CPU]["peak_bytes"] == step.PEAK_BYTES
    assert summary["network"] is None  # always present, null when not given


def test_empty_step_still_writes_every_file(tmp_path):
    summary = write_memory_report([], tmp_path)
    assert summary["peak_bytes"] == 0 and summary["busiest_device"] == ""
    assert (tmp_path / "timeline.txt").read_text() == ""
    check_png(tmp_path / "timeline.png")


def test_meta_cannot_overwrite_computed_figures(tmp_path):
    with pytest.raises(ValueError, match="peak_bytes"):
        write_memory_report(step.records(), tmp_path, meta={"peak_bytes": 1})


def test_several_traced_steps_report_their_median(tmp_path):
    """Three runs of the hand-made step, the middle one grown by a buffer: the report is that
    step's (its peak is the median), and a node's numbers are their median over the runs."""
    import dataclasses
    base = step.records()
    extra = [dataclasses.replace(base[0], delta_bytes=4096), dataclasses.replace(base[0], delta_bytes=-4096,
                                                                                 time_us=base[-1].time_us)]
    bigger = sorted(base + extra, key=lambda r: r.time_us)
    biggest = sorted(base + [dataclasses.replace(r, delta_bytes=r.delta_bytes * 2) for r in extra],
                     key=lambda r: r.time_us)
    summary = write_memory_report(bigger, tmp_path, node_stats=step.node_stats(), meta=META, persistent_bytes=0,
                                  other_steps=[(base, step.node_stats()), (biggest, step.node_stats())])
    peaks = summary["peak_bytes_per_step"]
    assert summary["traced_steps"] == 3 and len(set(peaks)) == 3
    assert summary["peak_bytes"] == sorted(peaks)[1] == peaks[0]  # the median is the step passed first
    with open(tmp_path / "timeline.txt") as handle:
        assert max(int(line.split()[1]) for line in handle) == summary["peak_bytes"]
