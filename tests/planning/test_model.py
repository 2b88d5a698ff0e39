"""The memory model against real traces of small networks, for every type.

Each network exercises some rules (dense, activations, conv + pooling, batch norm, residual);
the model must match the tracer's median peak within a tolerance that a wrong rule would break:
one activation or one weight gradient too many or too few is more than the tolerance. Every type
imposes its order and the session runs one op at a time (tracing/session_config.py), as a run's
does, so there is no race to allow for.
The model replays each block's kernels as measured here (training/measured_kernels.py), so it
holds under oneDNN and Eigen alike: `make test` runs it under both.
"""
import os
import statistics

import numpy as np
import pytest
import tensorflow as tf

import tracing
from definitions.errors import ConfigError
from layers import (AveragePool, BatchNormalization, ConvolutionalLayer, FullyConnected, MaxPool, ReLu,
                    ResidualLayer, Sigmoid, Tanh)
from planning.defined import not_defined
from planning.model import MemoryModel
from tracing.timeline import busiest_device, peak_bytes, split_by_device, timeline_points
from training.algorithms import ALGORITHMS
from training.blocks import forward_blocks, split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy
from training.measured_kernels import MeasuredKernels
from tracing.session_config import session_config

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

THREADS = os.cpu_count()
CLASSES, BATCH = 10, 32
TOLERANCE = 0.03

NETWORKS = {
    "dense": (lambda: [FullyConnected(256, flatten=True), Tanh(), FullyConnected(256), Sigmoid(),
                       FullyConnected(256), ReLu(), FullyConnected(CLASSES)], (16, 16, 1)),
    "conv_pool": (lambda: [ConvolutionalLayer((3, 3), 16), ReLu(), MaxPool([2, 2], [2, 2]),
                           ConvolutionalLayer((3, 3), 16), ReLu(), AveragePool([2, 2], [2, 2]),
                           FullyConnected(CLASSES, flatten=True)], (16, 16, 3)),
    "batch_norm": (lambda: [FullyConnected(256, flatten=True), BatchNormalization(), ReLu(),
                            FullyConnected(256), BatchNormalization(), ReLu(), FullyConnected(CLASSES)], (16, 16, 1)),
    "residual": (lambda: [ConvolutionalLayer((3, 3), 16), ReLu(),
                          ResidualLayer([ConvolutionalLayer((3, 3), 16), BatchNormalization(), ReLu(),
                                         ConvolutionalLayer((3, 3), 16), BatchNormalization()]),
                          ResidualLayer([ConvolutionalLayer((3, 3), 32, strides=[2, 2]), BatchNormalization(), ReLu()]),
                          AveragePool(), FullyConnected(CLASSES)], (16, 16, 3)),
}


def undefined(kind, make_layers):
    """Why `kind` is not defined on the network (planning/defined.py), or None."""
    return not_defined(kind, [(block.name, [str(layer) for layer in block.layers])
                              for block in split_into_blocks(make_layers())])


def measured_peak(make_layers, input_shape, kind, traces=5, config=None):
    """Median traced peak of the algorithm's step, after warm-up (the benchmarks' way); `config`: what the algorithm
    reads of one (BPCKPT's plan)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * 8, *input_shape)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH * 8)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH, drop_remainder=True).repeat()
        features, labels = tf.compat.v1.data.make_one_shot_iterator(batches).get_next()
        blocks = split_into_blocks(make_layers())
        step = ALGORITHMS[kind](config, Feedback(0)).build(
            blocks, features, tf.one_hot(labels, CLASSES), softmax_cross_entropy,
            lambda: tf.compat.v1.train.MomentumOptimizer(0.01, 0.9))
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph, config=session_config(THREADS)) as session:
        session.run(init)
        for _ in range(3):
            session.run(step.train_op)
        peaks = []
        for _ in range(traces):
            points = {d: timeline_points(r, 0) for d, r in split_by_device(tracing.trace(session, step.train_op).records).items()}
            peaks.append(peak_bytes(points[busiest_device(points)]))
        return statistics.median(peaks), tracing.persistent_bytes(graph)


def predicted(make_layers, input_shape, kind, checkpoint_plan=None, update_every=1):
    blocks = split_into_blocks(make_layers())
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    model = MemoryModel(blocks, input_shape, CLASSES, optimizer="momentum", threads=THREADS, global_step=False,
                        checkpoint_plan=checkpoint_plan, kernels=MeasuredKernels(blocks, THREADS, static_batch=True),
                        update_every=update_every)
    return model.predict(kind, BATCH)


@pytest.mark.parametrize("kind", sorted(ALGORITHMS))
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_model_predicts_the_traced_step(name, kind):
    make_layers, input_shape = NETWORKS[name]
    reason = undefined(kind, make_layers)
    if reason:
        pytest.skip(reason)  # PEPITA: dense layers only
    if kind == "FGRAD" and name != "dense":  # tangents of dense layers and pointwise activations only
        with pytest.raises(ConfigError, match="FGRAD computes forward gradients of dense layers"):
            predicted(make_layers, input_shape, kind)
        return
    peak, persistent = measured_peak(make_layers, input_shape, kind)
    prediction = predicted(make_layers, input_shape, kind)
    assert prediction.persistent_bytes == persistent  # the variables, to the byte
    assert prediction.peak_bytes == pytest.approx(peak, rel=TOLERANCE), (prediction.peak_op, prediction.peak_bytes, peak)


@pytest.mark.parametrize("kind", ["FA", "DFA"])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_updates_of_two_blocks_together_are_predicted(name, kind):
    """update_every=2: each pair of blocks' updates once both blocks' gradients exist. The model
    holds the pair's weight gradients as the step does: within the tolerance of the trace, and
    never below the one-block-at-a-time prediction."""
    from definitions.config import validate
    make_layers, input_shape = NETWORKS[name]
    config = validate({"type": kind, "update_every": 2})
    peak, _ = measured_peak(make_layers, input_shape, kind, config=config)
    prediction = predicted(make_layers, input_shape, kind, update_every=2)
    assert prediction.peak_bytes == pytest.approx(peak, rel=TOLERANCE), (prediction.peak_op, prediction.peak_bytes, peak)
    assert prediction.peak_bytes >= predicted(make_layers, input_shape, kind).peak_bytes
