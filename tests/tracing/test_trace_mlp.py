"""A real traced step of a tiny MLP: the tracer's figures against sizes computed by hand.

One graph, one session and one report for the whole module: TensorFlow is slow to start.
"""
import math
from collections import Counter

import numpy as np
import pytest

from tests.tracing.chrome_trace_checks import read_trace, slice_counts, slice_tuples, tensorflow_op_slices
from tests.tracing.report_checks import (
    ISSUE_ACTIVATION_COLUMNS,
    ISSUE_NODE_COLUMNS,
    check_png,
    read_csv,
    timeline_column,
)
from tracing import persistent_breakdown, persistent_bytes, trace, write_memory_report
from tracing.buffers import pair_buffers
from tracing.chrome_trace import STEP_COUNTER, TOTAL_COUNTER
from tracing.categories import Classifier
from tracing.figures import timeline_figure
from tracing.graph_facts import facts_from_graph
from tracing.node_table import executed_nodes
from tracing.plots import CATEGORY_FIGURE_SIZE
from tracing.timeline import busiest_device, peak_index, split_by_device, timeline_points

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

tf = pytest.importorskip("tensorflow")

BATCH, INPUTS, HIDDEN, CLASSES = 16, 12, 40, 6
FLOAT32 = 4
WEIGHT_BYTES = (INPUTS * HIDDEN + HIDDEN * CLASSES) * FLOAT32


def build_mlp(make_optimizer):
    graph = tf.Graph()
    rng = np.random.default_rng(0)
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [BATCH, INPUTS], name="x")
        y = tf.compat.v1.placeholder(tf.int32, [BATCH], name="y")
        with tf.name_scope("model"):
            w1 = tf.Variable(rng.normal(0, 0.1, (INPUTS, HIDDEN)).astype(np.float32), name="w1")
            w2 = tf.Variable(rng.normal(0, 0.1, (HIDDEN, CLASSES)).astype(np.float32), name="w2")
        with tf.name_scope("forward"):
            with tf.name_scope("block_1"):
                hidden = tf.nn.relu(tf.matmul(x, w1))
            with tf.name_scope("block_2"):
                logits = tf.matmul(hidden, w2)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        with tf.name_scope("backward"):
            grads = tf.gradients(loss, [w1, w2])
        with tf.name_scope("update"):
            train = make_optimizer().apply_gradients(zip(grads, [w1, w2]))
        init = tf.compat.v1.global_variables_initializer()
    return graph, x, y, loss, train, init


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    graph, x, y, loss, train, init = build_mlp(lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1))
    rng = np.random.default_rng(1)
    feed = {x: rng.random((BATCH, INPUTS), dtype=np.float32), y: rng.integers(0, CLASSES, BATCH).astype(np.int32)}
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(init)
        for _ in range(3):  # warm-up: the first runs allocate one-off buffers
            session.run(train, feed)
        result = trace(session, {"train": train, "loss": loss}, feed)
    out = tmp_path_factory.mktemp("memory")
    summary = write_memory_report(result.records, out, graph=graph, node_stats=result.node_stats,
                                  meta={"network": "tiny_mlp", "algorithm": "BP", "iteration": 3, "batch_size": BATCH},
                                  persistent_bytes=persistent_bytes(graph))
    return result, summary, out, loss.op.name, graph


def _allocations_under(records, scope):
    return sorted(r.delta_bytes for r in records if r.delta_bytes > 0 and r.op_name.startswith(scope))


def test_forward_matmul_deltas_are_batch_times_width(traced):
    records = traced[0].records
    assert _allocations_under(records, "forward/block_1/") == [BATCH * HIDDEN * FLOAT32]
    assert _allocations_under(records, "forward/block_2/") == [BATCH * CLASSES * FLOAT32]


def test_backward_deltas_are_weight_and_hidden_gradients(traced):
    records = traced[0].records
    assert _allocations_under(records, "backward/gradients/forward/block_1/") == [INPUTS * HIDDEN * FLOAT32]
    assert _allocations_under(records, "backward/gradients/forward/block_2/") == sorted(
        [HIDDEN * CLASSES * FLOAT32, BATCH * HIDDEN * FLOAT32])


def test_peak_is_the_maximum_of_the_running_sum(traced):
    result, summary, out, _, _ = traced
    running, largest = 0, None
    for record in sorted(result.records, key=lambda r: r.time_us):
        running += record.delta_bytes
        largest = running if largest is None else max(largest, running)
    assert summary["peak_bytes"] == largest == max(timeline_column(out / "timeline.txt", 1))
    # The peak holds at least the hidden activation and the hidden gradient at once.
    assert largest >= 2 * BATCH * HIDDEN * FLOAT32
    assert sum(summary["peak_bytes_by_category"].values()) == largest


def test_sum_of_deltas_is_what_the_step_leaves_allocated(traced):
    result, summary, _, loss_op, _ = traced
    total = sum(r.delta_bytes for r in result.records)
    leftover = [b for b in pair_buffers(result.records) if b.free_us is None]
    assert total == summary["final_bytes"] == sum(b.size_bytes for b in leftover)
    # What stays: the fetched loss, and possibly a copy of a weight that an update wrote while
    # the backward pass still read it (TF copies a variable on write while it is being read).
    assert (loss_op, FLOAT32) in [(b.owner, b.size_bytes) for b in leftover]
    for buffer in leftover:
        assert buffer.owner == loss_op or buffer.owner.startswith("update/"), buffer


def test_records_come_from_real_devices_with_named_allocators(traced):
    records = traced[0].records
    assert records
    assert all("/device:CPU:" in r.device and "stream:" not in r.device for r in records)
    assert all(r.allocator for r in records)
    assert math.isfinite(float(traced[0].values["loss"]))


def test_persistent_memory_is_the_weights(traced):
    graph = traced[4]
    assert persistent_bytes(graph) == WEIGHT_BYTES == traced[1]["persistent_bytes"]


def test_optimizer_slots_and_state_are_persistent_and_categorised():
    momentum_graph = build_mlp(lambda: tf.compat.v1.train.MomentumOptimizer(0.1, 0.9))[0]
    assert persistent_breakdown(momentum_graph) == {
        "weights": WEIGHT_BYTES, "optimizer_state": WEIGHT_BYTES, "other_variables": 0}
    adam_graph = build_mlp(lambda: tf.compat.v1.train.AdamOptimizer(0.1))[0]
    # Two slots per weight, plus the scalars beta1_power and beta2_power.
    assert persistent_bytes(adam_graph) == 3 * WEIGHT_BYTES + 2 * FLOAT32
    facts = facts_from_graph(adam_graph)
    applies = [n for n, t in facts.op_types.items() if t == "ResourceApplyAdam"]
    assert len(applies) == 2 and not set(applies) & facts.optimizer_state_ops
    beta_updates = [n for n in facts.optimizer_state_ops if facts.op_types[n] == "Mul"]
    assert len(beta_updates) == 2  # beta1_power * beta1, beta2_power * beta2


def test_nodes_csv(traced):
    out = traced[2]
    rows = read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS)
    by_name = {r["node_name"]: r for r in rows}
    for row in rows:
        if row["node_name"].startswith("forward/block_"):
            assert (row["category"], row["phase"]) == ("activation", "forward")
        if row["node_name"].startswith("backward/"):
            assert (row["category"], row["phase"]) == ("gradient", "backward")
    assert sum(int(r["bytes_allocated"]) for r in rows if r["node_name"].startswith("forward/block_1/")) == \
        BATCH * HIDDEN * FLOAT32
    assert by_name  # one row per executed node


def test_activations_csv_liveness_is_ordered(traced):
    out = traced[2]
    rows = read_csv(out / "activations.csv", ISSUE_ACTIVATION_COLUMNS)
    sizes = {r["activation_name"].split(":")[0].rsplit("/", 1)[0]: int(r["size_bytes"]) for r in rows}
    # The hidden layer's output is kept for the backward pass (ReluGrad and dW2 read it).
    assert sizes.get("forward/block_1") == BATCH * HIDDEN * FLOAT32
    for row in rows:
        ranks = [int(row[c]) for c in ("creation_rank", "last_fw_use_rank", "first_bw_use_rank", "last_bw_use_rank")]
        assert ranks[0] <= ranks[1] < ranks[2] <= ranks[3], row
        assert int(row["inactive_time_us"]) >= 0


def test_png_opens(traced):
    check_png(traced[2] / "timeline.png")
    check_png(traced[2] / "timeline_by_category.png", CATEGORY_FIGURE_SIZE)


def test_the_figures_data_is_the_real_step_s(traced):
    """timeline.png's phases are the executed nodes' (each node inside a stretch of its phase; this
    graph imposes no order, so the stretches interleave), timeline_by_category.png's stack is
    timeline.txt's bytes in use at every point."""
    result, summary, out, _, graph = traced
    nodes = executed_nodes(result.node_stats, result.records)
    classifier = Classifier(facts_from_graph(graph), {node.name: node.op_type for node in nodes})
    origin = summary["step_start_unix_us"]
    points = {device: timeline_points(records, origin) for device, records in split_by_device(result.records).items()}
    busiest = busiest_device(points)
    figure = timeline_figure(points, busiest, nodes, classifier, origin, summary["persistent_bytes"], {},
                             peak_index(points[busiest]), persistent_breakdown(graph))
    assert figure.budget_bytes is None
    assert figure.persistent_by_kind == {"weights": WEIGHT_BYTES, "optimizer_state": 0, "other_variables": 0}
    in_use = timeline_column(out / "timeline.txt", 1)
    assert [figure.categories.total(i) for i in range(len(in_use))] == in_use
    spans = figure.phase_spans
    assert {span.phase for span in spans} == {"forward", "backward", "update"}
    for node in nodes:
        phase = classifier.phase(node.name)
        if phase != "other":
            start, end = node.all_start_micros - origin, node.end_micros - origin
            assert any(span.phase == phase and span.start_us <= start and end <= span.end_us
                       for span in figure.phase_spans), node.name


def test_trace_json_has_the_slices_of_tensorflow_own_chrome_trace(traced):
    """TensorFlow's own Chrome trace exporter (client/timeline.py) reads the same step stats."""
    result, summary, out, _, _ = traced
    ours = read_trace(out / "trace.json")
    assert slice_tuples(ours) == tensorflow_op_slices(result.run_metadata, summary["step_start_unix_us"])
    assert slice_counts(ours) == Counter(row["node_name"] for row in read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS))


def test_trace_json_counters_and_peak_are_the_summary(traced):
    _, summary, out, _, _ = traced
    trace = read_trace(out / "trace.json")
    [pid] = trace.process_names
    assert trace.counter_max(pid, f"{STEP_COUNTER} bytes") == summary["peak_bytes"] == \
        max(timeline_column(out / "timeline.txt", 1))
    assert trace.counter_max(pid, f"{TOTAL_COUNTER} bytes") == summary["peak_total_bytes"]
    [peak] = trace.instants
    assert (peak["args"]["op"], peak["ts"]) == (summary["peak_op"], summary["peak_time_us"])
