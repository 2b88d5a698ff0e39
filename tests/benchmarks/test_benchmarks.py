"""Smoke tests: each benchmark's core runs on a tiny network and writes its files.

The full benchmarks take minutes (`python -m benchmarks.NAME`); these only check that the
pieces fit together, that the tables have the columns the issue names, and the arithmetic.
"""
import csv

import pytest

from benchmarks import (accuracy, budget, common, memory_vs_depth, mnist5k, step_floor, step_time, time_x_memory,
                        versus_keras)

TINY = [common.mlp(2, width=8), common.mlp(3, width=8)]


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_lower_bound_from_shapes():
    bench = common.Bench(common.mlp(3, width=8), "DFAMEM", batch_size=10)
    try:
        # Block 0: output 10x8 floats + kernel 784x8 + bias 8; its input (10x784) comes from tf.data.
        assert common.dfamem_lower_bound(bench.blocks, 10) == (10 * 8 + 784 * 8 + 8) * 4
        assert common.dfamem_lower_bound(bench.blocks, 10, count_network_input=True) == \
            (10 * 784 + 10 * 8 + 784 * 8 + 8) * 4
    finally:
        bench.close()


def test_memory_vs_depth(tmp_path):
    rows = memory_vs_depth.measure(TINY, types=("BP", "BPCKPT", "DFAMEM"), warmup=1, traces=1, batch_size=16,
                                   log=lambda *_: None)
    assert [(r["network"], r["type"]) for r in rows][:3] == [("long_fc_2", "BP"), ("long_fc_2", "BPCKPT"),
                                                             ("long_fc_2", "DFAMEM")]
    assert all(r["peak_bytes"] > 0 and r["persistent_bytes"] > 0 for r in rows)
    assert rows[0]["ratio_to_bp"] == 1.0 and rows[2]["ratio_to_lower_bound"] > 0
    assert rows[1]["segment_size"] == 1 and rows[0]["segment_size"] is None  # round(sqrt(2))
    library = rows[0]["kernels"]
    names = [name for name, *_ in memory_vs_depth.targets(rows)]
    assert names[0] == f"DFAMEM peak(3 blocks) / peak(2 blocks), {library}" and len(names) == 4
    # A second family's run (--append) keeps the first's rows: targets and table rows per family.
    other = [dict(row, kernels="other") for row in rows]
    both = common.keep_other_families(other, rows)
    assert len(both) == 2 * len(rows) and common.keep_other_families(other, both) == both
    assert len(memory_vs_depth.targets(both)) == 8
    columns, pivoted = common.pivot(both, lambda r: r["peak_mib"], keys=("network", "kernels"))
    assert columns[:2] == ["network", "kernels"] and len(pivoted) == 4
    memory_vs_depth.report(both, tmp_path, log=lambda *_: None)
    assert memory_vs_depth.read_rows(tmp_path / "memory_vs_depth.csv")[0]["peak_bytes"] == rows[0]["peak_bytes"]
    table = read_csv(tmp_path / "memory_vs_depth.csv")
    assert {"type", "kernels", "blocks", "peak_bytes", "persistent_bytes"} <= set(table[0])
    assert (tmp_path / "memory_vs_depth.png").stat().st_size > 0
    assert "| network | kernels |" in (tmp_path / "memory_vs_depth.md").read_text()


def test_step_time(tmp_path):
    from training.kernels import kernel_family
    rows = step_time.measure([(TINY[1], 16)], steps=2, warmup=1, log=lambda *_: None)
    assert [r["type"] for r in rows] == list(common.TYPES)
    assert rows[0]["ratio_to_bp"] == 1.0 and all(r["median_step_ms"] > 0 and r["steps"] == 2 for r in rows)
    assert {r["kernels"] for r in rows} == {kernel_family().library} and rows[0]["batch_size"] == 16
    flops = {r["type"]: r["flop_ratio"] for r in rows}
    assert flops["BP"] == flops["FA"] == 1.0 and flops["DFA"] == flops["DRTP"] < flops["DFAMEM"] and flops["BPCKPT"] > 1.0
    step_time.report(rows, tmp_path, log=lambda *_: None)
    table = read_csv(tmp_path / "step_time.csv")
    assert {"network", "kernels", "type", "median_step_ms", "ratio_to_bp", "flop_ratio"} <= set(table[0])
    text = (tmp_path / "step_time.md").read_text()
    assert "FLOPs of each type's step over BP's" in text
    # A missed limit is explained by the FLOPs exactly when the FLOP ratio is over it.
    missed = [dict(rows[3], ratio_to_bp=0.9, flop_ratio=0.8), dict(rows[3], ratio_to_bp=0.9, flop_ratio=0.7)]
    assert step_time.explained_misses(missed).count("| its FLOPs |") == 1
    assert step_time.explained_misses(missed).count("| time beyond its FLOPs |") == 1
    assert step_time.read_rows(tmp_path / "step_time.csv")[1]["ratio_to_bp"] == pytest.approx(rows[1]["ratio_to_bp"], abs=1e-3)


def test_replace_rows_keeps_the_order_and_the_pairs_not_measured_again():
    old = [{"kernels": k, "network": n, "type": t, "v": 0} for k in ("oneDNN", "Eigen") for n in ("a", "b")
           for t in ("BP", "DFA")]
    new = [{"kernels": "Eigen", "network": "a", "type": t, "v": 1} for t in ("BP", "DFA")] + \
          [{"kernels": "Eigen", "network": "c", "type": "BP", "v": 1}]
    merged = common.replace_rows(old, new)
    assert [(r["kernels"], r["network"], r["v"]) for r in merged] == [
        ("oneDNN", "a", 0), ("oneDNN", "a", 0), ("oneDNN", "b", 0), ("oneDNN", "b", 0),
        ("Eigen", "a", 1), ("Eigen", "a", 1), ("Eigen", "b", 0), ("Eigen", "b", 0), ("Eigen", "c", 1)]


def test_step_time_networks_reruns_the_named_rows_only(tmp_path, capsys):
    """--networks measures the named networks and keeps every other row of the CSV; an unknown name
    is a usage error that suggests the closest."""
    from training.kernels import kernel_family
    family = kernel_family().library
    other = [{"network": "long_fc_2", "kernels": family, "type": kind, "blocks": 2, "batch_size": 100,
              "median_step_ms": 1.0, "ratio_to_bp": 1.0, "steps": 30, "flop_ratio": 1.0} for kind in common.TYPES]
    stale = [dict(row, network="long_fc_3", median_step_ms=123.0) for row in other]
    common.write_csv(tmp_path / "step_time.csv", step_time.COLUMNS, other + stale)
    step_time.main(["--quick", "--steps", "2", "--networks", "long_fc_3", "--out", str(tmp_path)])
    rows = step_time.read_rows(tmp_path / "step_time.csv")
    assert rows[:len(other)] == other
    fresh = rows[len(other):]
    assert [r["type"] for r in fresh] == list(common.TYPES) and {r["network"] for r in fresh} == {"long_fc_3"}
    assert all(r["median_step_ms"] != 123.0 and r["steps"] == 2 for r in fresh)
    with pytest.raises(SystemExit) as exit_info:
        step_time.main(["--quick", "--networks", "long_fc_33", "--out", str(tmp_path)])
    assert exit_info.value.code == 2 and "did you mean 'long_fc_3'" in capsys.readouterr().err


def test_step_floor_counts_the_steps_gemms_and_bytes():
    bench = common.Bench(common.mlp(2, width=8), "BP", batch_size=10)
    try:
        kernels = step_floor.dense_kernels(bench.blocks)
        assert kernels == [(784, 8), (8, 10)]
        # Forward and weight gradient for every kernel, the input gradient for all but the first.
        assert step_floor.gemm_macs(kernels, 10) == 10 * (2 * (784 * 8 + 80) + 80)
        # DFA: no input gradients; the output error (10 classes) projected onto the hidden layer's 8 units.
        assert step_floor.gemm_macs(kernels, 10, "DFA") == 10 * (2 * (784 * 8 + 80) + 10 * 8)
        assert step_floor.moved_bytes(kernels, 10) == 4 * (4 * 10 * (8 + 10) + 5 * (784 * 8 + 8 + 80 + 10))
        row = step_floor.floor(bench.blocks, 10, common.session_config(), stream_floats=2**16)
        assert row["floor_ms"] == pytest.approx(row["gemm_ms"] + row["bytes_ms"])
        assert row["gemm_gflops"] > 0 and row["bandwidth_gbs"] > 0
        # y += x moves three floats per float of the stream: read x, read y, write y.
        timed = step_floor.from_times(kernels, 10, 0.01, 0.001, stream_floats=2**16)
        assert timed["bandwidth_gbs"] == pytest.approx(3 * 2**16 * 4 / 0.001 / 1e9)
    finally:
        bench.close()
    conv = common.Bench(common.conv(2, filters=2), "BP", batch_size=4)
    try:
        assert step_floor.floor(conv.blocks, 4, common.session_config()) is None
    finally:
        conv.close()


def test_the_floors_stream_writes_in_place_so_it_times_the_memory_bus_not_fresh_pages():
    """A stream with a new output (y = x + 1) allocated `floats` floats on every run: under Eigen's
    allocator, fresh pages whose faults the floor then timed as bandwidth."""
    import tracing
    from tracing.timeline import peak_bytes, split_by_device, timeline_points

    floats = 2**20
    bench = step_floor.stream_bench(common.session_config(), floats)
    try:
        bench.run(2)
        records = tracing.trace(bench.session, bench.fetch).records
    finally:
        bench.close()
    peaks = [peak_bytes(timeline_points(device_records, 0)) for device_records in split_by_device(records).values()]
    assert max(peaks, default=0) < floats * 4 // 4


def test_step_time_reports_bps_floor(tmp_path, monkeypatch):
    monkeypatch.setattr(step_time, "FLOOR_NETWORKS", (TINY[0].name,))
    monkeypatch.setattr(step_floor, "STREAM_FLOATS", 2**16)
    floors = []
    rows = step_time.measure([(TINY[0], 16)], types=("BP", "DFA"), steps=2, warmup=1, log=lambda *_: None,
                             floors=floors)
    assert [floor["type"] for floor in floors] == ["BP", "DFA"]
    for floor, row in zip(floors, rows):
        assert floor["step_ms"] == row["median_step_ms"] and floor["ratio_to_floor"] == floor["step_ms"] / floor["floor_ms"]
    bp, dfa = floors
    assert bp["floor_over_bp"] == 1.0 and dfa["floor_over_bp"] == dfa["floor_ms"] / bp["floor_ms"]
    kernels = [(784, 8), (8, 10)]  # TINY[0]'s
    assert dfa["gemm_gflops"] == pytest.approx(2 * step_floor.gemm_macs(kernels, 16, "DFA") / dfa["gemm_ms"] / 1e6)
    step_time.report(rows, tmp_path, log=lambda *_: None, floors=floors)
    text = (tmp_path / "step_time.md").read_text()
    assert "step / floor" in text and "floor / BP's" in text
    assert step_time.read_floor_rows(tmp_path / "step_floor.csv")[1]["floor_ms"] == pytest.approx(dfa["floor_ms"],
                                                                                                   abs=1e-3)


def test_a_floor_file_from_before_dfas_floor_reads_as_bps_rows(tmp_path):
    (tmp_path / "step_floor.csv").write_text(
        "network,kernels,batch_size,gemm_ms,gemm_gflops,bytes_mib,bandwidth_gbs,bytes_ms,floor_ms,bp_ms,ratio_to_floor\n"
        "long_fc_30,oneDNN,100,31.79,137.1,163.5,47.0,3.64,35.43,40.39,1.14\n")
    [row] = step_time.read_floor_rows(tmp_path / "step_floor.csv")
    assert (row["type"], row["step_ms"], row["floor_over_bp"]) == ("BP", 40.39, 1.0)
    assert step_time.floor_targets([row])[0][1] == 1.14


def test_time_x_memory(tmp_path):
    rows = time_x_memory.measure(TINY[0], types=("BP", "DFAMEM", "DRTP"), steps=2, warmup=1, traces=1,
                                 batch_size=16, log=lambda *_: None)
    assert {r["on_frontier"] for r in rows} <= {"yes", "no"} and "yes" in {r["on_frontier"] for r in rows}
    fastest = min(rows, key=lambda r: r["median_step_ms"])
    assert fastest["on_frontier"] == "yes"  # nothing is faster, so nothing dominates it
    # Another family's rows form their own plane: a slower copy dominates nothing of the first.
    slower = time_x_memory.mark_frontier([dict(row, kernels="other", median_step_ms=10 * row["median_step_ms"],
                                               peak_bytes=10 * row["peak_bytes"]) for row in rows])
    both = time_x_memory.mark_frontier(common.keep_other_families(slower, rows))
    assert [r["on_frontier"] for r in both] == [r["on_frontier"] for r in rows] * 2
    time_x_memory.report(both, tmp_path, log=lambda *_: None)
    assert (tmp_path / "time_x_memory.png").stat().st_size > 0
    assert len(time_x_memory.read_rows(tmp_path / "time_x_memory.csv")) == 2 * len(rows)


def test_frontier_marks_dominated_points():
    rows = [{"median_step_ms": t, "peak_bytes": p} for t, p in ((1, 5), (2, 2), (3, 3), (2, 2))]
    time_x_memory.mark_frontier(rows)
    assert [r["on_frontier"] for r in rows] == ["yes", "yes", "no", "yes"]  # equal points do not dominate


def test_keras_model_mirrors_our_mlp():
    from definitions.sequences import fcSigmoid
    model = versus_keras.keras_model(fcSigmoid(10), (8, 8, 1))
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [(d.units, d.activation.__name__) for d in dense] == [(256, "sigmoid"), (256, "sigmoid"), (10, "linear")]
    assert model.count_params() == (64 * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10)
    with pytest.raises(ValueError, match="no Keras counterpart"):
        from layers import BatchNormalization
        versus_keras.keras_model([BatchNormalization()], (8, 8, 1))


def test_keras_model_mirrors_our_convnet():
    """experiment_mnist_conv in Keras computes what ours computes, given our weights."""
    import numpy as np
    import tensorflow as tf

    from definitions.sequences import experiment_mnist_conv
    from training.blocks import forward_blocks, split_into_blocks
    layers = experiment_mnist_conv(10)
    model = versus_keras.keras_model(layers, (12, 12, 1))
    x = np.random.default_rng(0).standard_normal((3, 12, 12, 1)).astype(np.float32)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        blocks = split_into_blocks(layers)
        logits = forward_blocks(blocks, tf.constant(x), training=False)[-1]
        session.run(tf.compat.v1.global_variables_initializer())
        ours = session.run(logits)
        weights = session.run([v for block in blocks for v in block.variables])
    model.set_weights(weights)
    assert [type(layer).__name__ for layer in model.layers][:3] == ["Conv2D", "MaxPooling2D", "Activation"]
    np.testing.assert_allclose(model.predict(x, verbose=0), ours, rtol=1e-4, atol=1e-4)


def test_versus_keras(tmp_path):
    rows = versus_keras.measure(networks=(("fcReLu", "fcReLu"),), data_size=200, epochs=1, jit_modes=(False,),
                                log=lambda *_: None)
    assert rows[0]["ours_epoch_s"] > 0 and rows[0]["keras_epoch_s"] > 0 and rows[0]["steps_per_epoch"] == 2
    assert rows[0]["ratio"] == pytest.approx(rows[0]["ours_epoch_s"] / rows[0]["keras_epoch_s"])
    versus_keras.report(rows, tmp_path, log=lambda *_: None)
    assert {"network", "ours_epoch_s", "keras_epoch_s", "ratio"} <= set(read_csv(tmp_path / "versus_keras.csv")[0])
    assert rows[0]["keras_inter_op"] == versus_keras.POOL


def test_versus_keras_keeps_other_settings_rows_and_judges_the_pool_only(tmp_path):
    """--append keeps rows of another family or Keras inter-op setting (old rows, without the
    column, had the pool); the targets judge against Keras as its users run it."""
    path = tmp_path / "versus_keras.csv"
    path.write_text("network,kernels,keras_jit_compile,ours_epoch_s,keras_epoch_s,ratio,ours_step_ms,keras_step_ms,"
                    "steps_per_epoch,epochs,threads\nlong_fc,oneDNN,False,1.2,1.0,1.2,40,33,30,8,x\n")
    new = [{"network": "long_fc", "kernels": "oneDNN", "keras_jit_compile": "False", "keras_inter_op": "1",
            "ours_epoch_s": 1.2, "keras_epoch_s": 1.5, "ratio": 0.8, "ours_step_ms": 40.0, "keras_step_ms": 50.0,
            "steps_per_epoch": 30, "epochs": 8, "threads": "x"}]
    rows = versus_keras.kept_rows(path, new) + new
    assert [r["keras_inter_op"] for r in rows] == [versus_keras.POOL, "1"]
    assert versus_keras.kept_rows(path, [dict(new[0], keras_inter_op=versus_keras.POOL)]) == []
    assert [met for *_, met in versus_keras.targets(rows)] == [False]  # the pool's row alone
    versus_keras.report(rows, tmp_path, log=lambda *_: None)
    assert "| long_fc | oneDNN | False | 1 |" in (tmp_path / "versus_keras.md").read_text()


def test_accuracy_rows_targets_and_files(tmp_path):
    rows = accuracy.measure(types=("BP", "DFA", "DFAMEM"), seeds=(1,), epochs=1, log=lambda *_: None)
    assert [(r["seed"], r["type"], r["epochs"], r["status"]) for r in rows] == \
        [(1, "BP", 1, "completed"), (1, "DFA", 1, "completed"), (1, "DFAMEM", 1, "completed")]
    assert rows[1]["accuracy"] == rows[2]["accuracy"]  # DFAMEM computes DFA's updates
    checks = {name: (value, met) for name, value, _, met in accuracy.targets(rows)}
    assert checks["DFAMEM - DFA accuracy, largest gap (points)"] == (0.0, True)
    assert checks["BP accuracy, worst seed (%) >= 96"][0] == rows[0]["accuracy"]
    accuracy.report(rows, "demo line\n", tmp_path, log=lambda *_: None)
    assert (tmp_path / "demo.txt").read_text() == "demo line\n"
    assert read_csv(tmp_path / "accuracy.csv")[0]["type"] == "BP"
    assert "| seed | BP | DFA | DFAMEM |" in (tmp_path / "accuracy.md").read_text()


def test_uniform_sizes_are_one_per_number_of_segments():
    assert budget.uniform_sizes(10) == [1, 2, 3, 4, 5, 10]  # 10, 5, 4, 3, 2 and 1 segments
    assert budget.uniform_sizes(1) == [1]


def test_budget(tmp_path):
    """A plan for every budget that has one, its graph traced within the budget, compared with the
    uniform plans that fit; the report's targets and figure."""
    network = common.Network("long_fc_6", "long_fc", 6, (8, 8, 1), width=64)
    rows = budget.measure(network, shares=(0.3, 1.0), steps=2, warmup=1, traces=1, log=lambda *_: None)
    planned = [row for row in rows if row["kind"] == "planned"]
    assert [row["share"] for row in planned] == [0.3, 1.0, budget.SMALLEST]
    for row in planned:
        if row["plan"] != "none":
            assert row["measured_total_bytes"] <= row["budget_bytes"]
            assert row["predicted_total_bytes"] <= row["budget_bytes"]
            assert row["time_ratio"] is None or row["time_ratio"] > 0
    assert planned[1]["plan"] != "none"  # all of BP's peak on top of the persistent bytes always fits
    kinds = {row["kind"] for row in rows}
    assert {"BP", "DFAMEM", "DRTP", "uniform 1", "uniform 6"} <= kinds
    budget.report(rows, tmp_path, log=lambda *_: None)
    assert (tmp_path / "budget.png").stat().st_size > 0
    report = (tmp_path / "budget.md").read_text()
    assert "planned cases whose measured total exceeds the budget" in report
    assert "smallest feasible budget: largest (budget - measured) / budget" in report
    floor = planned[2]
    assert floor["measured_total_bytes"] <= floor["budget_bytes"] and floor["kernels"] in ("oneDNN", "Eigen")
    assert budget.measured_rows(tmp_path / "budget.csv")[0]["network"] == "long_fc_6"


def test_mnist5k_rows_resume_and_report(tmp_path, capsys):
    """Two runs on the real digits, the CSV written per row; a second invocation runs nothing."""
    argv = ["--quick", "--out", str(tmp_path)]
    mnist5k.main(argv)
    rows = read_csv(tmp_path / "mnist5k.csv")
    assert [(r["network"], r["type"], r["epochs"], r["status"]) for r in rows] == \
        [("exp_mnist_fc", "BP", "1", "completed"), ("exp_mnist_fc", "DFA", "1", "completed")]
    assert all(float(r["accuracy"]) > 50 for r in rows)  # real digits, learnt: far above guessing's 10%
    assert "| network | epochs | BP | DFA |" in (tmp_path / "mnist5k.md").read_text()
    capsys.readouterr()
    mnist5k.main(argv)
    assert "(completed" not in capsys.readouterr().out  # no run's line: every row was there
    assert read_csv(tmp_path / "mnist5k.csv") == rows


def test_mnist5k_cell_says_why_a_run_stopped():
    assert mnist5k.cell({"status": "completed", "accuracy": 91.0, "epochs_completed": 20}) == "91.00"
    assert mnist5k.cell({"status": "below_minimum_accuracy", "accuracy": 40.0, "epochs_completed": 2}) == \
        "40.00 (below the minimum, stopped after epoch 2)"
    assert mnist5k.cell({"status": "diverged", "accuracy": float("nan"), "epochs_completed": 0}) == \
        "diverged in epoch 1"


def test_prediction_types_again_replaces_only_their_rows():
    from benchmarks.prediction import replace_rows
    row = lambda kind, batch, peak: {"network": "n", "type": kind, "feedback": "stored", "batch_size": batch,  # noqa
                                     "measured_peak_bytes": peak}
    old = [row("BP", 8, 1), row("BPCKPT", 8, 2), row("BP", 16, 3), row("BPCKPT", 16, 4)]
    merged = replace_rows(old, [row("BPCKPT", 16, 40), row("BPCKPT", 8, 20)])
    assert [r["measured_peak_bytes"] for r in merged] == [1, 20, 3, 40]


def test_transformer_memory_rows_resume_and_report(tmp_path):
    from benchmarks import transformer_memory
    logged = []
    rows = transformer_memory.measure([(1, 16)], types=("BP", "DFAMEM"), out_dir=tmp_path, log=logged.append)
    assert [r["type"] for r in rows] == ["BP", "DFAMEM"] and len(logged) == 2
    assert all(r["peak_bytes"] > 0 and abs(r["total_error"]) < 0.08 for r in rows)
    assert rows[1]["ratio_to_bp"] == rows[1]["peak_bytes"] / rows[0]["peak_bytes"]
    # A second run finds both rows in the CSV and measures nothing again.
    again = transformer_memory.measure([(1, 16)], types=("BP", "DFAMEM"), out_dir=tmp_path, log=logged.append)
    assert len(logged) == 2 and [r["peak_bytes"] for r in again] == [r["peak_bytes"] for r in rows]
    transformer_memory.report(again, tmp_path, log=lambda *_: None)
    assert "transformer_1x16" in (tmp_path / "transformer_memory.md").read_text()
    assert (tmp_path / "transformer_memory.png").stat().st_size > 0


def test_shakespeare_quick_row_and_targets(tmp_path):
    import json

    from benchmarks import shakespeare
    row = shakespeare.train(shakespeare.config_of("DFA", quick=True), steps=3, log=lambda *_: None)
    assert row["type"] == "DFA" and row["steps"] == 3 and row["peak_mib"] > 0 and row["persistent_mib"] > 0
    assert row["sequence"] == "transformer_small"
    assert row["test_bits_per_char"] == pytest.approx(row["test_loss_nats"] / 0.6931471805599453)
    assert len(json.loads(row["train_losses"])) == 1  # logged at the last step
    twin = dict(row, type="DFAMEM")
    bp = dict(row, type="BP", test_loss_nats=row["test_loss_nats"] - 1.0)
    launay = shakespeare.train(shakespeare.config_of("DFA", quick=True, sequence="transformer_small_launay"),
                               steps=2, log=lambda *_: None)
    assert launay["sequence"] == "transformer_small_launay" and launay["peak_mib"] > 0
    launay_bp = dict(launay, type="BP", test_loss_nats=launay["test_loss_nats"] - 0.5)
    checks = {name: met for name, _, _, met in shakespeare.targets([bp, row, twin, launay_bp, launay])}
    assert not checks["DFA held-out loss - BP's (nats/char), nanoGPT's layout"]
    assert checks["DFA held-out loss - BP's (nats/char), Launay et al.'s layout"]  # each layout judged alone
    assert checks["DFAMEM's logged training loss - DFA's, largest, nanoGPT's layout"]
    between = dict(launay, sequence=shakespeare.ablation_name("post", "sublayer", True),
                   test_loss_nats=launay["test_loss_nats"] + 0.25)
    assert ("benchmarks.shakespeare:post_sublayer_own_embedding", "DFA") in shakespeare.plan()
    shakespeare.report([bp, row, twin, launay_bp, launay, between], tmp_path, log=lambda *_: None)
    text = (tmp_path / "shakespeare.md").read_text()
    assert "| transformer_small | DFAMEM |" in text and "| transformer_small_launay | DFA |" in text
    # the ablation table: DFA's loss beside BP's of the same norm (here launay_bp's), not in the main table
    assert f"| post | sublayer | own | {between['test_loss_nats']:.3f} | {launay_bp['test_loss_nats']:.3f} | 0.750 |" in text
    assert "post_sublayer_own_embedding | DFA" not in text


def test_atlas_memory_rows_targets_report(tmp_path):
    from benchmarks import atlas
    rows = [atlas.memory_row(network, kind, 16) for network in (common.mlp(2, width=8), common.mlp(4, width=8))
            for kind in ("BP", "DFA")]
    assert all(r["status"] == "measured" and r["measured_total_bytes"] > r["measured_peak_bytes"] > 0 for r in rows)
    assert all(abs(r["total_error"]) < 0.08 for r in rows)
    atlas.with_ratios(rows)
    assert rows[0]["total_ratio_to_bp"] == 1.0 and rows[1]["total_ratio_to_bp"] == \
        rows[1]["measured_total_bytes"] / rows[0]["measured_total_bytes"]
    digits = "default_network on digits"
    rows += [{"part": "accuracy", "network": digits, "type": kind, "seed": seed, "accuracy": accuracy}
             for kind, seed, accuracy in (("BP", 7, 97.0), ("BP", 1, 96.0), ("USF", 7, 95.0), ("USF", 1, 94.0),
                                          ("MEZO", 7, 70.0))]
    checks = {name: (value, met) for name, value, _, met in atlas.targets(rows)}
    assert checks["BP - USF digits accuracy, worst seeds (points)"] == (2.0, False)
    assert checks["MEZO digits accuracy, worst seed (%)"] == (70.0, False)
    atlas.report([{column: row.get(column) for column in atlas.COLUMNS} for row in rows], tmp_path,
                 log=lambda *_: None)
    text = (tmp_path / "atlas.md").read_text()
    from training.kernels import kernel_family
    assert f"| long_fc_4 | {kernel_family().library} | DFA |" in text  # each memory row names its kernels
    assert atlas.sys.executable not in text  # the sweep's command is shown with "python"
    assert (tmp_path / "atlas.png").stat().st_size > 0


def test_atlas_chooses_each_types_best_rate_from_the_tuners_summary(tmp_path):
    from benchmarks import atlas
    summary = tmp_path / "summarise.csv"
    summary.write_text("run_id,type,learning_rate,status,accuracy\n"
                       "a,DFA,0.01,completed,90.0\nb,DFA,0.03,completed,92.5\nc,DFA,0.1,failed,\n"
                       "d,BP,0.01,completed,97.0\ne,BP,0.003,completed,97.0\n")
    assert atlas.best_rates(summary) == {"DFA": 0.03, "BP": 0.003}  # a tie goes to the smaller rate
    command = atlas.sweep_command(["BP", "DFA"], str(tmp_path / "sweep"), epochs=1)
    import subprocess
    listed = subprocess.run(command + ["--dry_run"], cwd=atlas.os.path.dirname(atlas.os.path.dirname(atlas.__file__)),
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(listed) == 8 and all("--learning_rate" in line and "--seed 0" in line for line in listed)


def test_atlas_variants_reach_the_memory_rows_and_the_sweep(tmp_path):
    """A variant's settings (VARIANTS) reach its traced step, its prediction and the tuner's runs."""
    from benchmarks import atlas
    rows = {kind: atlas.memory_row(common.mlp(2, width=8), kind, 16) for kind in ("MEZO", "MEZO+n4")}
    assert all(r["status"] == "measured" and abs(r["total_error"]) < 0.08 for r in rows.values())
    # n-SPSA sums each variable's draws one at a time: a draw and the sum beside the update.
    assert rows["MEZO+n4"]["measured_peak_bytes"] > rows["MEZO"]["measured_peak_bytes"]
    kind, settings = atlas.VARIANTS["FGRAD+act4"]
    command = atlas.sweep_command([kind], str(tmp_path / "sweep"), epochs=1, learning_rates=(0.001,), settings=settings)
    import subprocess
    listed = subprocess.run(command + ["--dry_run"], cwd=atlas.os.path.dirname(atlas.os.path.dirname(atlas.__file__)),
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(listed) == 1
    for part in ("--type FGRAD", "fgrad_samples", "activity", "--optimizer sgd"):
        assert part in listed[0], (part, listed[0])


def test_atlas_reads_rows_written_before_the_kernels_column(tmp_path):
    """Memory rows without a family were traced with oneDNN; the other rows have none; a run of
    another family measures its own memory rows and keeps the old ones, ratios within a family."""
    from benchmarks import atlas
    path = tmp_path / "atlas.csv"
    path.write_text("part,network,type,batch_size,measured_total_bytes,peak_error,total_error,status,accuracy\n"
                    "memory,long_fc_5,BP,100,200,0.0,0.0,measured,\nmemory,long_fc_5,DFA,100,100,0.0,0.0,measured,\n"
                    "accuracy,default_network on digits,BP,10,,,,completed,96.5\n")
    rows = atlas.read_rows(path)
    assert [r["kernels"] for r in rows] == [atlas.EARLIER_KERNELS, atlas.EARLIER_KERNELS, None]
    rows.append({"part": "memory", "network": "long_fc_5", "kernels": "Eigen", "type": "DFA",
                 "measured_total_bytes": 400, "peak_error": 0.0, "total_error": 0.01, "status": "measured"})
    ratios = [r.get("total_ratio_to_bp") for r in atlas.with_ratios(rows)]
    assert ratios[:2] == [1.0, 0.5] and ratios[3] is None  # Eigen has no BP row here
    atlas.report([{column: row.get(column) for column in atlas.COLUMNS} for row in rows], tmp_path,
                 log=lambda *_: None)
    assert "| long_fc_5 | Eigen | DFA |" in (tmp_path / "atlas.md").read_text()


def test_inter_op_times_both_sessions_and_keeps_the_other_family(tmp_path):
    """Both sessions of a type run the same graph (their steps take time), and --append keeps
    another family's rows."""
    from benchmarks import inter_op
    (tmp_path / "inter_op.csv").write_text(",".join(inter_op.COLUMNS) + "\nlong_fc_2,cuDNN,BP,1.0,1.0,1.0\n")
    inter_op.main(["--quick", "--append", "--out", str(tmp_path)])
    rows = read_csv(tmp_path / "inter_op.csv")
    assert rows[0]["kernels"] == "cuDNN" and [r["type"] for r in rows[1:]] == list(inter_op.TYPES)
    for row in rows[1:]:
        assert float(row["callers_thread_ms"]) > 0 and float(row["pool_ms"]) > 0
        assert float(row["pool_over_callers_thread"]) == pytest.approx(
            float(row["pool_ms"]) / float(row["callers_thread_ms"]), rel=1e-2)
    assert "| long_fc_2 | cuDNN | BP |" in (tmp_path / "inter_op.md").read_text()


@pytest.mark.parametrize("kind", ["FA", "DFA"])
def test_update_order_variants_apply_the_rules_updates_later(kind, tmp_path):
    """benchmarks.update_order's FAAtEnd and DFAAtEnd apply the same updates as FA and DFA (two steps
    of momentum, the second reading the first's weights), only later in the step; quick rows, report."""
    import numpy as np
    import tensorflow as tf

    from benchmarks import update_order
    from definitions.sequences import fcSigmoid
    from tests.training.algorithms.harness import run_steps
    from training.algorithms import DFA, FA
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 8, 8, 1)).astype(np.float32), np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    runs = [run_steps(algorithm, lambda: fcSigmoid(10), x, y, steps=2,
                      optimizer=lambda: tf.compat.v1.train.MomentumOptimizer(0.1, 0.9))
            for algorithm in ({"FA": FA, "DFA": DFA}[kind], update_order.VARIANTS[kind])]
    for ours, theirs in zip(runs[1].after, runs[0].after):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(runs[0].after[0], runs[0].before[0])
    if kind == "DFA":
        rows = update_order.measure(update_order.networks(quick=True), steps=2, log=lambda *_: None)
        assert [row["type"] for row in rows] == ["FA", "DFA"]
        assert all(0 < row["as_run_peak_mib"] <= row["pairs_peak_mib"] <= row["at_end_peak_mib"] for row in rows)
        update_order.report(rows, tmp_path, log=lambda *_: None)
        assert "| long_fc_2 | " in (tmp_path / "update_order.md").read_text()


def test_keras_phases(tmp_path):
    """Both sides' traced steps split into phases that add up; Keras' momentum is more ops per
    variable than ours (one ResourceApplyMomentum each)."""
    from benchmarks import keras_phases
    rows = keras_phases.measure([("fcReLu (2 x 256, relu)", "fcReLu")], batch_size=16, traces=1, log=lambda *_: None)
    assert [r["side"] for r in rows] == ["ours", "Keras"]
    for row in rows:
        assert all(row[f"{phase}_ms"] > 0 for phase in ("forward", "backward", "update"))
        assert row["total_ms"] == pytest.approx(sum(row[f"{phase}_ms"] for phase in keras_phases.PHASES))
    ours, theirs = rows
    variables = 6  # three kernels and three biases
    assert ours["update_ops"] >= variables and theirs["update_ops"] > 2 * variables
    keras_phases.report(rows, tmp_path, log=lambda *_: None)
    assert read_csv(tmp_path / "keras_phases.csv")[1]["side"] == "Keras"
    assert "| network | kernels | side |" in (tmp_path / "keras_phases.md").read_text()


def test_phase_of_reads_the_first_scope():
    from benchmarks.keras_phases import phase_of
    assert [phase_of(name) for name in ("forward/block_0/MatMul", "update/SGD/Mul", "backward/x", "metrics/Add",
                                        "input/IteratorGetNext", "Const")] == \
        ["forward", "update", "backward", "other", "other", "other"]


def test_bp_with_updates_free_takes_bps_steps_on_a_pool():
    """inter_op's what-if: each block's update waits for the block's input gradient only, so on an
    inter-op pool it may run beside the next block's backward; the weights after two momentum
    steps are BP's (an update that raced a read of its weights would change them)."""
    import numpy as np

    from benchmarks import inter_op
    network = common.mlp(4, width=32)
    bp = common.Bench(network, "BP", batch_size=16)
    free = inter_op.bench(network, "BP, updates free", (2, inter_op.POOL_THREADS), 16)
    try:
        bp.run(2)
        free.run(2)
        for mine, theirs in zip(*(bench.session.run([v for b in bench.blocks for v in b.variables])
                                  for bench in (bp, free))):
            np.testing.assert_allclose(theirs, mine, rtol=1e-5, atol=1e-6)
        assert free.trace() < bp.trace()  # each weight gradient goes with its update
    finally:
        bp.close()
        free.close()


def test_update_interleave_chains_apply_every_update_once(tmp_path):
    """Each variant of the chain runs every link's momentum update exactly once per step (each
    velocity becomes 0.9 x velocity + the same gradient), whatever the grouping."""
    import numpy as np

    from benchmarks import update_interleave
    for group in (None, 1, 2):
        bench = update_interleave.chain(3, 4, 8, group, common.session_config())
        try:
            graph = bench.session.graph
            velocities = [v for v in graph.get_collection("variables")][-3:]
            before = bench.session.run(velocities)
            bench.run(1)
            first = bench.session.run(velocities)
            bench.run(1)
            gradients = [v1 - 0.9 * v0 for v0, v1 in zip(before, first)]
            np.testing.assert_allclose(bench.session.run(velocities), [0.9 * v + g for v, g in zip(first, gradients)],
                                       rtol=1e-4, atol=1e-7)
            assert len([op for op in graph.get_operations() if op.type == "ResourceApplyMomentum"]) == 3
        finally:
            bench.close()
    rows = update_interleave.measure(links=3, batch_size=4, width=8, steps=2, log=lambda *_: None)
    assert [r["updates"] for r in rows] == [update_interleave.AT_END, "after each", "every 2", "every 4"]
    assert [r["gradients_held"] for r in rows] == [3, 1, 2, 4] and rows[0]["ratio_to_at_end"] == 1.0
    update_interleave.report(rows, tmp_path, log=lambda *_: None)
    assert "| kernels | updates |" in (tmp_path / "update_interleave.md").read_text()


def test_conv_kernels_run_every_kernel_they_time(tmp_path):
    """Each kind's graph executes one kernel of that kind per convolution (input gradients for all
    but the first layer), read from a traced run's step stats: grappler drops ops nothing reads."""
    from benchmarks import conv_kernels
    from tracing.tracer import trace
    (network, batch_size), = conv_kernels.networks(quick=True)
    layers = conv_kernels.convolutions(network)
    expected = {"forward": ("Conv2D", len(layers)), "filter_gradients": ("Conv2DBackpropFilter", len(layers)),
                "input_gradients": ("Conv2DBackpropInput", len(layers) - 1)}
    for kind, (op_type, count) in expected.items():
        bench = conv_kernels.kernel_graph(kind, layers, batch_size, common.session_config())
        try:
            names = {op.name for op in bench.session.graph.get_operations() if op.type == op_type}
            executed = {node.name for node in trace(bench.session, bench.fetch).node_stats}
            assert len(names) == count and names <= executed, (kind, names, executed)
        finally:
            bench.close()
    # long_conv_10: nine convolutions and a dense layer; vgg_16's thirteen, 32x32 down to 2x2 pixels
    full = {network.name: conv_kernels.convolutions(network) for network, _ in conv_kernels.networks()}
    assert {name: len(layers) for name, layers in full.items()} == {"long_conv_10": 9, "vgg_16": 13}
    assert [(h, cin, cout) for h, _, cin, _, cout in full["vgg_16"]][::3] == [
        (32, 3, 64), (16, 128, 128), (8, 256, 256), (4, 512, 512), (2, 512, 512)]
    rows = conv_kernels.measure(conv_kernels.networks(quick=True) * 2, steps=2, log=lambda *_: None)
    for row in rows:
        total = row["forward_ms"] + row["filter_gradients_ms"] + row["input_gradients_ms"]
        assert row["dfa_over_bp"] == pytest.approx((row["forward_ms"] + row["filter_gradients_ms"]) / total)
    conv_kernels.report(rows, tmp_path, log=lambda *_: None)
    assert len(read_csv(tmp_path / "conv_kernels.csv")) == 2
    assert "| network | kernels | batch |" in (tmp_path / "conv_kernels.md").read_text()


def test_update_every_rows_trade_time_for_memory(tmp_path):
    """One row per rule and group size; a larger group holds more weight gradients, never fewer."""
    from benchmarks import update_every
    rows = update_every.measure(update_every.networks(quick=True), groups=(1, 2), steps=2, log=lambda *_: None)
    assert [(r["type"], r["update_every"]) for r in rows] == [("FA", 1), ("FA", 2), ("DFA", 1), ("DFA", 2)]
    for one, two in (rows[:2], rows[2:]):
        assert 0 < one["peak_mib"] < two["peak_mib"] and one["peak_over_bp"] < two["peak_over_bp"]
        assert one["ratio_to_bp"] > 0
    update_every.report(rows, tmp_path, log=lambda *_: None)
    assert "| long_fc_3 | " in (tmp_path / "update_every.md").read_text()


def test_malloc_settings_times_each_setting_in_processes_of_its_own(tmp_path):
    from benchmarks import malloc_settings
    nets = malloc_settings.networks(quick=True)
    rows = malloc_settings.measure([(nets[0][0], 8)], processes=1, steps=2, warmup=1, quick=True, log=lambda *_: None)
    assert [(r["setting"], r["type"]) for r in rows] == [(s, t) for s in malloc_settings.SETTINGS for t in common.TYPES]
    default = {r["type"]: r for r in rows if r["setting"] == "default"}
    assert all(r["speedup"] == 1.0 and r["steps"] == 2 and r["faults_per_step"] >= 0 for r in default.values())
    kept = {r["type"]: r for r in rows if r["setting"] == "keep"}
    assert kept["DFA"]["speedup"] == pytest.approx(default["DFA"]["median_step_ms"] / kept["DFA"]["median_step_ms"])
    assert kept["BP"]["ratio_to_bp"] == 1.0
    malloc_settings.report(rows, tmp_path, log=lambda *_: None)
    assert "Minor page faults per step" in (tmp_path / "malloc_settings.md").read_text()
    assert len(read_csv(tmp_path / "malloc_settings.csv")) == len(rows)


def test_onednn_primitives_times_each_setting_in_processes_that_ran_with_it(tmp_path):
    # Each child says what TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE it ran with; the parent checks it.
    from benchmarks import onednn_primitives
    nets = onednn_primitives.networks(quick=True)
    assert [net.family for net, _ in nets] == ["long_conv"]
    rows = onednn_primitives.measure([(nets[0][0], 8)], processes=1, steps=2, warmup=1, quick=True, log=lambda *_: None)
    assert [(r["setting"], r["type"]) for r in rows] == [(s, t) for s in onednn_primitives.SETTINGS for t in common.TYPES]
    assert all(r["speedup"] == 1.0 for r in rows if r["setting"] == "rebuilt")
    onednn_primitives.report(rows, tmp_path, log=lambda *_: None)
    assert "Speed-up from keeping the primitives" in (tmp_path / "onednn_primitives.md").read_text()


def test_epoch_start_times_both_pipelines_in_turns(tmp_path):
    from benchmarks import epoch_start
    rows = epoch_start.measure(epoch_start.NETWORKS[:1], data_size=200, epochs=2, log=lambda *_: None)
    assert [r["autotune"] for r in rows] == ["on", "off"]
    for row in rows:
        assert row["epochs"] == 2 and 0 <= row["slow_starts"] <= 2
        assert 0 < row["median_start_ms"] <= row["max_start_ms"] and row["median_steps_s"] > 0
    epoch_start.report(rows, tmp_path, log=lambda *_: None)
    assert len(read_csv(tmp_path / "epoch_start.csv")) == 2


def test_step_time_pools_the_steps_of_several_processes(tmp_path, monkeypatch):
    """--processes N: each network timed in N processes of its own; the medians are over all their steps."""
    network, batch_size = step_time.networks(quick=True)[0]
    monkeypatch.setattr(step_time, "FLOOR_NETWORKS", (network.name,))
    floors = []
    rows = step_time.measure([(network, batch_size)], types=("BP", "DFA"), steps=2, warmup=1, log=lambda *_: None,
                             floors=floors, processes=2, quick=True)
    assert [(r["type"], r["steps"]) for r in rows] == [("BP", 4), ("DFA", 4)]
    assert rows[1]["ratio_to_bp"] == rows[1]["median_step_ms"] / rows[0]["median_step_ms"]
    assert all(r["flop_ratio"] > 0 for r in rows)
    assert [(f["type"], f["step_ms"]) for f in floors] == [(r["type"], r["median_step_ms"]) for r in rows]
    assert floors[1]["floor_over_bp"] == floors[1]["floor_ms"] / floors[0]["floor_ms"]


def test_fused_batch_norm_builds_both_versions_of_each_type_and_they_train_alike(tmp_path):
    """The unfused network is the same network (same weights, same loss on the same batch) with
    moments + batch_normalization in place of FusedBatchNormV3; rows, peaks and the report."""
    from benchmarks import fused_batch_norm
    network = fused_batch_norm.networks(quick=True)[0]
    unfused = fused_batch_norm.unfused_network(network)
    benches = [common.Bench(n, "BP", batch_size=8) for n in (network, unfused)]
    try:
        ops = [{op.type for op in bench.graph.get_operations()} for bench in benches]
        assert "FusedBatchNormV3" in ops[0] and "FusedBatchNormV3" not in ops[1] and "SquaredDifference" in ops[1]
        losses = [bench.session.run(bench.step.loss) for bench in benches]
        assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    finally:
        for bench in benches:
            bench.close()
    rows = fused_batch_norm.measure([network], types=("BP", "DFA"), steps=2, warmup=1, log=lambda *_: None)
    assert [r["type"] for r in rows] == ["BP", "DFA"] and rows[0]["fused_over_bp"] == 1.0
    assert all(r["fused_peak_mib"] > 0 and r["unfused_peak_mib"] > 0 and r["speedup"] > 0 for r in rows)
    assert all(r["fused_bn_ms"] > 0 and r["unfused_bn_ms"] > 0 for r in rows)  # each finds its batch-norm ops
    fused_batch_norm.report(rows, tmp_path, log=lambda *_: None)
    assert "| liao_mnist_bn | " in (tmp_path / "fused_batch_norm.md").read_text()
