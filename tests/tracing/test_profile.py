"""blocks.csv and the recomputation columns of activations.csv, on a traced MLP whose sizes are known."""
import csv
import os

import pytest

from training.run import resolve_config, run_experiment
from tracing.profile import block_of

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

BATCH, WIDTH, FEATURES, CLASSES = 32, 256, 16, 4
MLP = {"dataset_name": "synthetic", "synthetic_shape": [FEATURES], "synthetic_classes": CLASSES, "synthetic_size": 64,
       "sequence": "fcTanh", "batch_size": BATCH, "epochs": 1, "seed": 3, "memory_warmup": 2, "memory_steps": 3}


def rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_block_names_come_from_the_scopes():
    assert block_of("forward/block_12/BiasAdd") == 12
    assert block_of("recompute/segment_0/backward/block_3/MatMul_grad/MatMul") == 3
    assert block_of("update/Momentum") is None and block_of("forward/block_x/y") is None


def test_per_block_costs_of_a_traced_mlp(tmp_path):
    config = resolve_config(MLP, "mlp", {"memory_only": True, "type": "BP"})
    run_dir, _ = run_experiment(config, str(tmp_path), log=lambda line: None)
    memory = os.path.join(run_dir, "memory")
    blocks = {int(row["block"]): row for row in rows(os.path.join(memory, "blocks.csv"))}
    assert sorted(blocks) == [0, 1, 2]
    weights = {0: (FEATURES * WIDTH + WIDTH) * 4, 1: (WIDTH * WIDTH + WIDTH) * 4, 2: (WIDTH * CLASSES + CLASSES) * 4}
    outputs = {0: BATCH * WIDTH * 4, 1: BATCH * WIDTH * 4, 2: BATCH * CLASSES * 4}
    for block in (0, 1, 2):
        assert int(blocks[block]["weight_bytes"]) == weights[block]
        assert int(blocks[block]["output_bytes"]) == outputs[block]
        assert int(blocks[block]["forward_time_us"]) > 0 and int(blocks[block]["backward_time_us"]) > 0
    # BP keeps each hidden block's tanh output (in the BiasAdd's buffer) for its backward pass.
    assert int(blocks[0]["kept_for_backward_bytes"]) >= outputs[0]
    # Recomputing a hidden block's output costs that block's forward nodes: one fused matmul.
    activations = rows(os.path.join(memory, "activations.csv"))
    hidden = [row for row in activations if row["activation_name"].startswith("forward/block_1/")]
    assert hidden and int(hidden[0]["recomp_memory_bytes"]) == outputs[1]
    assert 0 < int(hidden[0]["recomp_time_us"]) <= int(blocks[1]["forward_time_us"])
