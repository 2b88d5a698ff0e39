"""A recomputed block runs the kernels the first forward pass runs: Grappler fuses both alike.

Read from the graph the session really runs (its partition graphs, after Grappler): for each
block, the op types under the first pass's `forward/block_i/` and under the recomputation's
`recompute/.../forward/` equal. A control edge out of an activation (an update waiting for the
block's output) once kept oneDNN's remapper from fusing it into the MatMul, so DFAMEM's
recomputation ran two kernels where the first pass runs one (the speed issue).
"""
import collections

import pytest
import tensorflow as tf

from benchmarks import common

pytestmark = pytest.mark.kernels  # which ops fuse is the kernel library's choice: both are checked


def op_types_by_block(kind, network):
    bench = common.Bench(network, kind, batch_size=8)
    try:
        bench.run(1)
        options = tf.compat.v1.RunOptions(output_partition_graphs=True)
        metadata = tf.compat.v1.RunMetadata()
        bench.session.run(bench.fetches, options=options, run_metadata=metadata)
        nodes = [node for graph in metadata.partition_graphs for node in graph.node
                 if node.op not in ("ReadVariableOp", "Const", "NoOp")]
        last = f"block_{len(bench.blocks) - 1}"
    finally:
        bench.close()
    first, again = collections.defaultdict(collections.Counter), collections.defaultdict(collections.Counter)
    for node in nodes:
        parts = node.name.split("/")
        block = next((part for part in parts if part.startswith("block_")), None)
        # The last block's recomputed output is never read (DFAMEM's error comes from the first
        # pass): Grappler drops its ops, rightly.
        if block in (None, last) or "backward" in parts or "gradients" in parts or "feedback" in parts:
            continue
        if parts[0] == "forward":
            first[block][node.op] += 1
        elif parts[0] == "recompute" and "forward" in parts and node.op != "Identity":
            again[block][node.op] += 1
    return first, again


@pytest.mark.parametrize("kind", ["DFAMEM", "BPCKPT"])
@pytest.mark.parametrize("network", [common.mlp(4, width=32), common.conv(3, filters=4)], ids=["dense", "conv"])
def test_a_recomputed_block_runs_the_first_pass_kernels(kind, network):
    first, again = op_types_by_block(kind, network)
    assert again, "no recomputation found"
    for block, kernels in again.items():
        assert kernels == first[block], (block, dict(first[block]), dict(kernels))
