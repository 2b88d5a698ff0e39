"""gather_stats measures the training step without changing it.

The statistics (alignment angles) are a subgraph beside the step, run on their own with the
step's batch fed in: the step has the same ops, trains the same weights and, traced, shows the
same memory as a step of a run without statistics.
"""
import json
import os

import numpy as np
import pytest

from definitions.datasets import load_dataset
from training.algorithms import ALGORITHMS
from training.graph import build_training_graph
from training.run import resolve_config, run_experiment
from training.trainer import Trainer

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 60,
         "sequence": "fcTanh", "batch_size": 20, "epochs": 2, "learning_rate": 0.1, "optimizer": "momentum",
         "seed": 5, "stat_period": 2}


def step_ops(config):
    """Names of every op the training step runs (inputs and control inputs, transitively)."""
    model = build_training_graph(config, load_dataset(config))
    seen, stack = set(), [model.step.train_op, model.step.loss.op]
    while stack:
        op = stack.pop()
        if op.name not in seen:
            seen.add(op.name)
            stack += [t.op for t in op.inputs] + list(op.control_inputs)
    return seen, model


@pytest.mark.parametrize("kind", sorted(ALGORITHMS))
def test_the_step_has_the_same_ops_with_and_without_statistics(kind):
    plain, _ = step_ops(resolve_config(SMALL, "small", {"type": kind}))
    with_stats, model = step_ops(resolve_config(SMALL, "small", {"type": kind, "gather_stats": True}))
    assert with_stats == plain
    assert not any(name.startswith("statistics/") for name in with_stats)
    if ALGORITHMS[kind].approximates_bp and kind != "MEZO":  # MEZO's update exists only by moving the weights
        assert sorted(model.stats) == [f"alignment/block_{i}" for i in range(3)]
    else:
        assert model.stats == {}  # BP's updates are BP's gradients: nothing to measure


def trained_weights(config, run_dir):
    trainer = Trainer(config, load_dataset(config), str(run_dir), log=lambda line: None)
    try:
        result = trainer.run()
        variables = [v for block in trainer.model.blocks for v in block.variables + block.non_trainable_variables]
        return result, trainer.session.run(variables)
    finally:
        trainer.close()


# BRSF and FGRAD: the statistics read the draw counter and must not move it.
@pytest.mark.parametrize("kind", ["FA", "DFA", "DFAMEM", "DRTP", "PEPITA", "LOCAL", "BRSF", "FGRAD"])
def test_statistics_leave_the_weights_exactly_as_without_them(kind, tmp_path):
    plain, want = trained_weights(resolve_config(SMALL, "small", {"type": kind}), tmp_path / "plain")
    stats, got = trained_weights(resolve_config(SMALL, "small", {"type": kind, "gather_stats": True}),
                                 tmp_path / "stats")
    assert stats["iterations"] == plain["iterations"] == 6
    assert sorted(stats["alignment_degrees"]) == ["block_0", "block_1", "block_2"]
    assert sorted(os.listdir(tmp_path / "stats" / "memory")) == ["iteration_2", "iteration_4", "iteration_6"]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert (stats["accuracy"], stats["loss"]) == (plain["accuracy"], plain["loss"])


# long_fc (20 sigmoid blocks): were the angles' BP backward pass inside the traced step, the
# statistics step would hold every block's activations, several times DFAMEM's own peak.
DEEP = {"dataset_name": "synthetic", "synthetic_shape": [16], "synthetic_classes": 4, "synthetic_size": 128,
        "sequence": "long_fc", "batch_size": 32, "epochs": 1, "seed": 3, "memory_warmup": 3}


def peak_of(summary_path):
    with open(summary_path) as handle:
        return json.load(handle)["peak_bytes"]


@pytest.mark.parametrize("kind,tolerance", [("BP", 0.01), ("DFAMEM", 0.01), ("BPCKPT", 0.01), ("DRTP", 0.25)])
def test_a_traced_statistics_step_shows_the_memory_of_a_plain_step(kind, tolerance, tmp_path):
    """BP, DFAMEM and BPCKPT impose their order: the same peak up to a small buffer's place in
    it. DRTP lets one block's forward pass overlap the previous block's update, in an order
    that varies from run to run (see training/algorithms/drtp.py)."""
    config = resolve_config(DEEP, "deep", {"type": kind, "memory_only": True})
    _, plain = run_experiment(config, str(tmp_path), log=lambda line: None)
    config = resolve_config(DEEP, "deep", {"type": kind, "gather_stats": True, "stat_period": 4})
    run_dir, _ = run_experiment(config, str(tmp_path), log=lambda line: None)
    traced = peak_of(os.path.join(run_dir, "memory", "iteration_4", "summary.json"))
    assert traced == pytest.approx(plain["peak_bytes"], rel=tolerance)
