from hypothesis import given
from hypothesis import strategies as st

from tests.tracing import handmade_step as step
from tracing.records import AllocationRecord
from tracing.timeline import (
    busiest_device,
    device_file_names,
    format_timeline,
    parse_timeline,
    peak_bytes,
    peak_index,
    short_device_name,
    split_by_device,
    timeline_points,
)


def test_handmade_step_timeline_is_time_ordered_running_sum():
    points = timeline_points(step.records(), step.T0)
    assert [p.time_us for p in points] == sorted(p.time_us for p in points)
    assert [p.bytes_in_use for p in points] == [
        128, 176, 192, 208, 192, 196, 180, 276, 404, 356, 260, 132, 324, 196, 4]
    assert peak_bytes(points) == step.PEAK_BYTES
    assert points[peak_index(points)].time_us == step.PEAK_TIME_US
    assert points[peak_index(points)].op_name == step.DH
    assert points[-1].bytes_in_use == step.FINAL_BYTES == sum(r.delta_bytes for r in step.records())


def test_ties_keep_step_stats_order():
    records = [
        AllocationRecord(5, 10, "b", "d", "a"),
        AllocationRecord(5, -10, "a", "d", "a"),
        AllocationRecord(1, 10, "a", "d", "a"),
        AllocationRecord(5, 7, "c", "d", "a"),
    ]
    points = timeline_points(records, 0)
    assert [p.op_name for p in points] == ["a", "b", "a", "c"]
    assert [p.bytes_in_use for p in points] == [10, 20, 10, 17]


def test_format_and_parse_round_trip():
    points = timeline_points(step.records(), step.T0)
    text = format_timeline(points)
    assert text.splitlines()[0] == f"11 128 128 {step.B1}"
    assert parse_timeline(text) == points


def test_empty_timeline_has_zero_peak():
    assert peak_bytes([]) == 0
    assert peak_index([]) is None
    assert format_timeline([]) == ""


def test_busiest_device_is_the_one_with_the_largest_peak():
    gpu = "/job:localhost/replica:0/task:0/device:GPU:0"
    records = step.records() + [
        AllocationRecord(step.T0 + 1, 300, "x", gpu, "GPU_0_bfc"),
        AllocationRecord(step.T0 + 2, -300, "x", gpu, "GPU_0_bfc"),
    ]
    per_device = {d: timeline_points(r, step.T0) for d, r in split_by_device(records).items()}
    assert list(per_device) == [step.CPU, gpu]
    assert busiest_device(per_device) == step.CPU  # 404 > 300
    assert device_file_names(per_device) == {step.CPU: "CPU_0", gpu: "GPU_0"}


def test_device_names_clash_falls_back_to_full_names():
    a = "/job:worker/replica:0/task:0/device:CPU:0"
    b = "/job:worker/replica:0/task:1/device:CPU:0"
    assert short_device_name(a) == "CPU_0"
    names = device_file_names([a, b])
    assert len(set(names.values())) == 2 and all(" " not in n and "/" not in n for n in names.values())


record_lists = st.lists(
    st.builds(AllocationRecord, st.integers(0, 50), st.integers(-1000, 1000).filter(bool),
              st.sampled_from(["a", "b/c", "d"]), st.just("dev"), st.just("cpu")),
    max_size=40,
)


@given(record_lists)
def test_peak_is_max_of_running_sum_and_last_is_sum_of_deltas(records):
    points = timeline_points(records, 0)
    running, sums = 0, []
    for record in sorted(records, key=lambda r: r.time_us):
        running += record.delta_bytes
        sums.append(running)
    assert peak_bytes(points) == (max(sums) if sums else 0)
    if records:
        assert points[-1].bytes_in_use == sum(r.delta_bytes for r in records)
    assert parse_timeline(format_timeline(points)) == points
