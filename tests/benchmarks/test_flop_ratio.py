"""Each type's FLOPs over BP's (planning's count: benchmarks.step_time's flop_ratio column, the
arithmetic each speed limit is judged against) equal TensorFlow's own FLOP statistics of the
products a traced step really ran.

The reference reads the executed nodes from the trace, after Grappler pruned and fused the graph
(a fused MatMul + BiasAdd + activation is named after its activation; the products that
tf.gradients builds for no one are gone), finds each product's op in the graph as built, and asks
TensorFlow's registered "flops" statistics for it. A product the model forgot (an input gradient
DFA does not need, a recomputation) or counted twice moves the ratio by more than the tolerance.
"""
import pytest
from tensorflow.python.framework import ops as tf_ops

import tracing
from benchmarks import common
from definitions.config import TRAINING_TYPES
from definitions.errors import ConfigError
from definitions.sequences import _basic_block
from layers import AveragePool, BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu

#: The graph ops of the products a step runs; TensorFlow registers "flops" statistics for each.
PRODUCTS = {"MatMul", "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"}
TOLERANCE = 0.01
pytestmark = pytest.mark.kernels  # the same products on oneDNN and Eigen: `make test` runs both


def small_resnet(classes):
    """resnet_18's stem and two basic blocks, the second with a stride and a projection."""
    return [ConvolutionalLayer((3, 3), 8), BatchNormalization(), ReLu(), *_basic_block(8, 1), *_basic_block(16, 2),
            AveragePool(kernel_size=None), FullyConnected(classes)]


NETWORKS = {"dense": common.Network("long_fc_6", "long_fc", 6, (8, 8, 1), width=128), "conv": common.conv(2, filters=8),
            "residual": common.Network("small_resnet", f"{__name__}:small_resnet", 0, (16, 16, 3))}


def product_of(graph, name):
    """The product op behind an executed node: itself, or the product a fused node starts from
    (Sigmoid <- BiasAdd <- MatMul); None for a node that is no product."""
    try:
        op = graph.get_operation_by_name(name)
    except KeyError:
        return None  # made by Grappler: no product of ours
    for _ in range(3):
        if op.type in PRODUCTS:
            return op
        if not op.inputs:
            return None
        op = op.inputs[0].op
    return op if op.type in PRODUCTS else None


def executed_flops(bench):
    """TensorFlow's FLOP count of the products one traced step ran."""
    total = 0
    for node in tracing.trace(bench.session, bench.fetches).node_stats:
        if "MatMul" in node.op_type or "Conv" in node.op_type:
            op = product_of(bench.graph, node.name)
            assert op is not None, f"{node.name} ({node.op_type}): no product found behind it"
            total += tf_ops.get_stats_for_node_def(bench.graph, op.node_def, "flops").value
    return total


#: The rules defined on dense layers only (planning/defined.py), refused on the other networks.
DENSE_ONLY = {"PEPITA", "FGRAD"}


@pytest.mark.parametrize("network", NETWORKS)
def test_flop_ratio_is_the_executed_products_ratio(network):
    """Every training type (FGRAD in both perturbations and with copies, MEZO with samples),
    against BP's executed products."""
    cases = [(kind, {}) for kind in TRAINING_TYPES] + [
        ("FGRAD", {"fgrad_perturbation": "activity"}), ("FGRAD", {"fgrad_perturbation": "activity", "fgrad_samples": 3}), ("MEZO", {"mezo_samples": 2})]
    benches, refused = {}, set()
    try:
        for kind, settings in cases:
            try:
                benches[kind, str(settings)] = common.Bench(NETWORKS[network], kind, batch_size=4, settings=settings)
            except ConfigError:
                refused.add(kind)
        assert refused == (set() if network == "dense" else DENSE_ONLY)
        for bench in benches.values():
            bench.run(2)
        flops = {key: executed_flops(bench) for key, bench in benches.items()}
        bp = flops["BP", "{}"]
        for key, bench in benches.items():
            assert bench.flop_ratio() == pytest.approx(flops[key] / bp, rel=TOLERANCE), key
    finally:
        for bench in benches.values():
            bench.close()


def test_dfa_on_two_convolution_blocks_keeps_most_of_bps_arithmetic():
    """DFA skips a block's input gradient only: with two convolutions per residual block it still
    backpropagates inside each block, so its FLOP ratio is well above the 2F/3F of one-layer blocks."""
    dense, residual = (common.Bench(NETWORKS[name], "DFA", batch_size=4) for name in ("dense", "residual"))
    try:
        assert dense.flop_ratio() < 0.8 < residual.flop_ratio()
    finally:
        dense.close()
        residual.close()
