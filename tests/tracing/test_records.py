from types import SimpleNamespace as NS

from tracing.records import is_pseudo_device, node_stats_from_step_stats, op_type_from_label, records_from_step_stats

GPU = "/job:localhost/replica:0/task:0/device:GPU:0"


def _node(name, records, allocator="GPU_0_bfc", label=None, thread_id=3):
    output = NS(slot=0, tensor_description=NS(allocation_description=NS(allocated_bytes=256, requested_bytes=200, ptr=77)))
    return NS(
        node_name=name,
        timeline_label=label if label is not None else f"{name} = MatMul(a, b)",
        all_start_micros=100,
        all_end_rel_micros=9,
        memory=[NS(allocator_name=allocator,
                   allocation_records=[NS(alloc_micros=t, alloc_bytes=b) for t, b in records])],
        output=[output],
        thread_id=thread_id,
    )


STEP_STATS = NS(dev_stats=[
    NS(device=GPU, node_stats=[_node("forward/MatMul", [(101, 256), (150, -256)])]),
    NS(device="/device:GPU:0/stream:all", node_stats=[_node("forward/MatMul", [(101, 256)])]),
    NS(device="/device:GPU:0/stream:7", node_stats=[_node("forward/MatMul", [(101, 256)])]),
    NS(device="/device:GPU:0/memcpy", node_stats=[_node("forward/MatMul", [(101, 256)])]),
    NS(device="/job:localhost/replica:0/task:0/device:CPU:0",
       node_stats=[_node("input/IteratorGetNext", [(90, 8)], allocator="cpu", label="", thread_id=11)]),
])


def test_records_skip_stream_pseudo_devices_and_keep_allocators():
    records = records_from_step_stats(STEP_STATS)
    assert [(r.time_us, r.delta_bytes, r.device, r.allocator) for r in records] == [
        (101, 256, GPU, "GPU_0_bfc"), (150, -256, GPU, "GPU_0_bfc"),
        (90, 8, "/job:localhost/replica:0/task:0/device:CPU:0", "cpu")]


def test_node_stats_carry_timing_type_and_output_addresses():
    nodes = node_stats_from_step_stats(STEP_STATS)
    assert [n.name for n in nodes] == ["forward/MatMul", "input/IteratorGetNext"]
    first = nodes[0]
    assert (first.op_type, first.all_start_micros, first.run_time_us, first.end_micros) == ("MatMul", 100, 9, 109)
    assert first.outputs[0].ptr == 77 and first.outputs[0].allocated_bytes == 256
    assert nodes[1].op_type == ""
    assert [n.thread_id for n in nodes] == [3, 11]  # the executor threads, for trace.json's tids


def test_labels_and_pseudo_devices():
    assert op_type_from_label("forward/b/Relu = _MklNativeFusedMatMul(x, w, b)") == "_MklNativeFusedMatMul"
    assert op_type_from_label("_SOURCE = NoOp()") == "NoOp"
    assert is_pseudo_device("/device:GPU:0/stream:all")
    assert not is_pseudo_device(GPU)
