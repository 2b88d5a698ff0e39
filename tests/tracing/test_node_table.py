from tests.tracing import handmade_step as step
from tracing.categories import Classifier
from tracing.node_table import executed_nodes, node_rows


def _rows():
    nodes = executed_nodes(step.node_stats(), step.records())
    return {row.node_name: row for row in node_rows(nodes, step.records(), Classifier())}


def test_node_memory_around_the_peak_node():
    row = _rows()[step.DH]
    assert row.rank == 9
    assert (row.category, row.phase) == ("gradient", "backward")
    assert row.bytes_allocated == 128
    assert row.active_bytes_before_node == 276  # everything up to dW2's allocation at t=51
    assert row.peak_bytes_during_node == step.PEAK_BYTES
    assert row.run_time_us == 4


def test_nodes_that_allocate_nothing_report_the_memory_around_them():
    row = _rows()[step.RELU]
    assert (row.bytes_allocated, row.active_bytes_before_node, row.peak_bytes_during_node) == (0, 128, 128)


def test_node_allocating_several_buffers_sums_them():
    row = _rows()[step.XENT]
    assert row.bytes_allocated == 32
    assert row.peak_bytes_during_node == 208


def test_without_node_stats_nodes_come_from_records():
    nodes = executed_nodes(None, step.records())
    assert [node.name for node in nodes][:2] == [step.B1, step.B2]
    assert all(node.run_time_us == 0 for node in nodes)
