"""The tracer on BPCKPT's nested recomputations: each pass its own, in the categories of its scopes.

A recomputation nested in another is named recompute/segment_i/recompute/segment_j/...: its
forward ops must count as activations of the forward phase (the first step scope decides),
its block must be read from the name, and the recomputation costs of activations.csv must
count its own pass only, not the passes it repeats.
"""
import csv
import os

import pytest

from tracing.categories import category_of, phase_of
from tracing.profile import block_of
from training.run import resolve_config, run_experiment
from tests.tracing.test_profile import BATCH, MLP, WIDTH

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

NESTED = "recompute/segment_0/recompute/segment_1"


@pytest.mark.parametrize("name, category, phase, block", [
    (f"{NESTED}/forward/block_2/MatMul", "activation", "forward", 2),
    (f"{NESTED}/segment_input", "other", "other", None),  # an identity: it allocates nothing
    (f"{NESTED}/backward/block_2/gradients/{NESTED}/forward/block_2/MatMul_grad/MatMul", "gradient", "backward", 2),
    (f"{NESTED}/update/Momentum/update_model/block_2/0_FullyConnected/kernel/ResourceApplyMomentum", "update",
     "update", 2),
])
def test_a_nested_recomputations_names_keep_their_category_and_block(name, category, phase, block):
    assert (category_of(name), phase_of(name), block_of(name)) == (category, phase, block)


def rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def nested_run(tmp_path_factory):
    """fcTanh (3 blocks) under (1|1)|1: block 0 runs in the first pass, in segment 0's recomputation
    (blocks 0-1, block 1 differentiated on it), and again in segment 0's own segment 0."""
    config = resolve_config(MLP, "mlp", {"memory_only": True, "type": "BPCKPT", "checkpoint_plan": "(1|1)|1"})
    run_dir, _ = run_experiment(config, str(tmp_path_factory.mktemp("runs")), log=lambda line: None)
    return os.path.join(run_dir, "memory")


def test_every_pass_ran_and_is_classified_by_its_scopes(nested_run):
    nodes = rows(os.path.join(nested_run, "nodes.csv"))
    passes = {row["node_name"].split("block_0/")[0] for row in nodes if row["phase"] == "forward"
              and "forward/block_0/" in row["node_name"] and int(row["bytes_allocated"]) > 0}
    # Grappler merged none of them with the pass it repeats.
    assert passes == {"forward/", "recompute/segment_0/forward/", "recompute/segment_0/recompute/segment_0/forward/"}
    recomputed = [row for row in nodes if row["node_name"].startswith("recompute/")]
    assert recomputed
    for row in recomputed:
        assert (row["category"], row["phase"]) == (category_of(row["node_name"]), phase_of(row["node_name"]))
        if "/forward/block_" in row["node_name"] and "/backward/" not in row["node_name"] and \
                "/update/" not in row["node_name"]:
            assert (row["category"], row["phase"]) == ("activation", "forward"), row["node_name"]


def test_recomputing_an_activation_costs_its_own_pass_only(nested_run):
    activations = rows(os.path.join(nested_run, "activations.csv"))
    output = BATCH * WIDTH * 4
    for prefix in ("recompute/segment_0/recompute/segment_0/forward/block_0/", "recompute/segment_0/forward/block_1/"):
        # The block's output, found by its pass and size: the kernel library names the node (BiasAdd
        # on Eigen, a fused _MklFusedMatMul's name on oneDNN). One matmul of that pass, not the same
        # block's nodes of the passes before it.
        found = [row for row in activations if row["activation_name"].startswith(prefix)
                 and int(row["size_bytes"]) == output]
        assert found, (prefix, [row["activation_name"] for row in activations])
        for row in found:
            assert int(row["recomp_memory_bytes"]) == output, row
