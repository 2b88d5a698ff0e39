"""The memory tracer inside real runs: memory_only, gather_stats, compare, DFAMEM vs depth."""
import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

import tracing
from layers import FullyConnected, Sigmoid
from tests.tracing.chrome_trace_checks import read_trace, slice_counts
from tracing.chrome_trace import STEP_COUNTER
from training.algorithms import BP, DFAMEM
from training.blocks import split_into_blocks
from training.cli import main
from training.losses import softmax_cross_entropy
from training.run import resolve_config, run_experiment

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

MLP = {"dataset_name": "synthetic", "synthetic_shape": [16], "synthetic_classes": 4, "synthetic_size": 64,
       "sequence": "fcTanh", "batch_size": 32, "epochs": 1, "seed": 3, "memory_warmup": 2}


def test_memory_only_writes_the_files_and_stops(tmp_path):
    config = resolve_config(MLP, "mlp", {"memory_only": True, "type": "DFA"})
    lines = []
    run_dir, result = run_experiment(config, str(tmp_path), log=lines.append)
    memory = os.path.join(run_dir, "memory")
    assert sorted(os.listdir(memory)) == ["activations.csv", "blocks.csv", "nodes.csv", "summary.json",
                                          "timeline.png", "timeline.txt", "timeline_by_category.png",
                                          "trace.json"]
    assert result["status"] == "memory_only" and result["iterations"] == 5  # 2 warm-up steps + 3 traced
    assert lines[0].startswith("memory peak: ")
    summary = json.load(open(os.path.join(memory, "summary.json")))
    # timeline.txt: "<timestamp_us> <bytes_in_use> <delta_bytes> <op_name>" per line.
    rows = [(int(t), int(used), int(delta), op) for t, used, delta, op in
            (line.split(" ", 3) for line in open(os.path.join(memory, "timeline.txt")).read().splitlines())]
    in_use = [row[1] for row in rows]
    assert summary["peak_bytes"] == max(in_use) == result["peak_bytes"]
    # Three traced steps: the report is the one with the median peak.
    assert summary["traced_steps"] == 3 and sorted(summary["peak_bytes_per_step"])[1] == summary["peak_bytes"]
    # trace.json shows that median step too, and names the run.
    trace = read_trace(os.path.join(memory, "trace.json"))
    [pid] = trace.process_names
    assert trace.counter_max(pid, f"{STEP_COUNTER} bytes") == summary["peak_bytes"]
    assert [event["args"]["op"] for event in trace.instants] == [summary["peak_op"]]
    assert json.load(open(os.path.join(memory, "trace.json")))["otherData"]["sequence"] == "fcTanh"
    assert in_use[-1] == sum(row[2] for row in rows)  # bytes_in_use is the running sum
    assert summary["algorithm"] == "DFA" and summary["iteration"] == 5
    # Persistent memory: weights 16x256 + 256x256 + 256x4 (+ biases), DFA matrices (SGD: no slots).
    weights = (16 * 256 + 256 + 256 * 256 + 256 + 256 * 4 + 4) * 4
    feedback = (4 * 256 + 4 * 256) * 4
    assert summary["persistent_bytes"] == weights + feedback + 8  # + int64 global_step
    # The first forward matmul's output: batch x width x 4 bytes.
    first = [row for row in rows if row[3].startswith("forward/block_0/") and row[2] > 0]
    assert first and first[0][2] == 32 * 256 * 4


def test_gather_stats_traces_periodically_and_records_alignment(tmp_path):
    config = resolve_config(MLP, "mlp", {"gather_stats": True, "stat_period": 2, "type": "DFA", "epochs": 2})
    run_dir, result = run_experiment(config, str(tmp_path), log=lambda line: None)
    traced = sorted(os.listdir(os.path.join(run_dir, "memory")))
    assert traced == ["iteration_2", "iteration_4"]  # 64 examples / 32 per batch x 2 epochs = 4 steps
    with open(os.path.join(run_dir, "memory", "iteration_4", "nodes.csv")) as handle:
        assert len(list(csv.DictReader(handle))) > 10
    assert sorted(result["alignment_degrees"]) == ["block_0", "block_1", "block_2"]
    assert result["alignment_degrees"]["block_2"] == pytest.approx(0, abs=0.5)  # true error at the output


def test_experiment_compare_overlays_runs(tmp_path):
    dirs = []
    for kind in ("BP", "DFAMEM"):
        config = resolve_config(MLP, "mlp", {"memory_only": True, "type": kind})
        dirs.append(run_experiment(config, str(tmp_path / "runs"), log=lambda line: None)[0])
    figure, both = tmp_path / "fig.png", tmp_path / "both.json"
    result = CliRunner().invoke(main, ["compare", *dirs, "-o", str(figure), "--trace", str(both)])
    assert result.exit_code == 0, result.output
    assert figure.stat().st_size > 10_000 and "DFAMEM" in result.output and "BP" in result.output
    merged = read_trace(both)
    assert list(merged.process_names.values()) == ["mlp, fcTanh, BP, batch 32", "mlp, fcTanh, DFAMEM, batch 32"]
    for pid, run_dir in zip(merged.process_names, dirs):
        summary = json.load(open(os.path.join(run_dir, "memory", "summary.json")))
        assert merged.counter_max(pid, f"{STEP_COUNTER} bytes") == summary["peak_bytes"]
        assert sum(slice_counts(merged, pid).values()) == summary["nodes"]
    bad = CliRunner().invoke(main, ["compare", str(tmp_path), "-o", str(figure)])
    assert bad.exit_code == 2


def traced_peak(algorithm, depth, tmp_path, width=64, batch=32):
    """Transient peak of one traced step of a depth-block sigmoid MLP, after warm-up."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, batch)]
    graph = tf.Graph()
    with graph.as_default():
        layers = []
        for _ in range(depth - 1):
            layers += [FullyConnected(width), Sigmoid()]
        blocks = split_into_blocks(layers + [FullyConnected(4)])
        step = algorithm(config=None).build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
                                            lambda: tf.compat.v1.train.GradientDescentOptimizer(0.01))
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for _ in range(2):
                session.run(step.train_op)
            result = tracing.trace(session, step.train_op)
            summary = tracing.write_memory_report(result.records, str(tmp_path / f"{algorithm.name}_{depth}"),
                                                  graph=graph, node_stats=result.node_stats)
    return summary["peak_bytes"]


def test_dfamem_peak_is_flat_with_depth_while_bp_grows(tmp_path):
    bp = {depth: traced_peak(BP, depth, tmp_path) for depth in (4, 12)}
    mem = {depth: traced_peak(DFAMEM, depth, tmp_path) for depth in (4, 12)}
    activation, weight = 32 * 64 * 4, 64 * 64 * 4
    assert bp[12] >= bp[4] + 8 * activation  # BP keeps every block's activations for the backward pass
    assert mem[12] <= 1.15 * mem[4]  # DFAMEM: one block at a time
    # One block's input, output, projected error and weight update bound DFAMEM's peak.
    assert mem[12] <= 1.25 * (3 * activation + weight) + 4096
    assert mem[12] < 0.5 * bp[12]
