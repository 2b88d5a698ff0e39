"""One order for a layer's gradient ops, in the step and in the kernel probe (training/gradients.py).

Left to the executor, a convolution's input and filter gradients ran in an order set by a hash of
the nodes' names: the step ran one first, the probe (other names) the other, and on Eigen the model
missed the input gradient beside the filter gradient's im2col buffer.
"""
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import common, prediction
from training.gradients import ordered_gradients

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`


def _gradient_ops(graph, kind):
    return [op for op in graph.get_operations() if op.type == kind]


def test_a_layers_gradients_run_in_the_order_they_were_made():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 8, 8, 3])
        kernel = tf.Variable(tf.ones([3, 3, 3, 4]))
        weights = tf.Variable(tf.ones([256, 5]))
        y = tf.matmul(tf.reshape(tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME")), [-1, 256]), weights)
        ordered_gradients(y, [x, kernel, weights])
    [to_input], [to_filter] = _gradient_ops(graph, "Conv2DBackpropInput"), _gradient_ops(graph, "Conv2DBackpropFilter")
    assert to_input in to_filter.control_inputs
    first, second = [op for op in _gradient_ops(graph, "MatMul") if "_grad" in op.name]
    assert first in second.control_inputs


def test_the_models_total_is_the_traced_one_where_the_order_matters():
    # 32x32x32 activations at batch 32: on Eigen the filter gradient's im2col buffer is 27 MiB and
    # the input gradient's 1 MiB, so which runs first moves the peak by an activation (4 MiB).
    network = common.Network("long_conv_3", "long_conv", 3, (32, 32, 3), width=32)
    bench = common.Bench(network, "BP", batch_size=32)
    try:
        predicted = prediction.memory_model(network, bench.blocks, "stored").predict("BP", 32)
        bench.run(2)
        measured = bench.trace()
    finally:
        bench.close()
    assert predicted.peak_bytes == pytest.approx(measured, rel=0.01)
    assert np.isfinite(measured) and measured > 3 * 32 * 32 * 32 * 32 * 4
