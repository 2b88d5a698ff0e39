"""FGRAD with activity perturbation: the memory model against the traced step (test_model's way),
on test_model's dense network. Its tangents are (batch, units) and each block's input waits for its
update, so the peak holds every block's input, unlike FGRAD on the weights."""
from types import SimpleNamespace

import pytest
import tensorflow as tf

from planning.model import MemoryModel
from tests.planning.test_model import BATCH, CLASSES, NETWORKS, THREADS, TOLERANCE, measured_peak
from training.blocks import forward_blocks, split_into_blocks
from training.measured_kernels import MeasuredKernels

pytestmark = pytest.mark.kernels


def predicted(perturbation):
    make_layers, input_shape = NETWORKS["dense"]
    blocks = split_into_blocks(make_layers())
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    model = MemoryModel(blocks, input_shape, CLASSES, optimizer="momentum", threads=THREADS, global_step=False,
                        kernels=MeasuredKernels(blocks, THREADS, static_batch=True), fgrad_perturbation=perturbation)
    return model.predict("FGRAD", BATCH)


def test_the_model_predicts_the_traced_step():
    make_layers, input_shape = NETWORKS["dense"]
    peak, persistent = measured_peak(make_layers, input_shape, "FGRAD",
                                     config=SimpleNamespace(fgrad_perturbation="activity"))
    prediction = predicted("activity")
    assert prediction.persistent_bytes == persistent
    assert prediction.peak_bytes == pytest.approx(peak, rel=TOLERANCE), (prediction.peak_op, prediction.peak_bytes, peak)
    assert prediction.peak_bytes != predicted("weights").peak_bytes  # the setting reaches the model
