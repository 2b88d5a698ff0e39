"""The settings of the forward-only rules reach the memory model, which predicts the traced step
(test_model's way, on test_model's dense network):
- FGRAD with activity perturbation: its tangents are (batch, units) and each block's input waits
  for its update, so the peak holds every block's input, unlike FGRAD on the weights;
- FGRAD's fgrad_samples: the batch tiled into that many copies;
- MEZO's mezo_samples (n-SPSA): each variable's update sums one draw at a time."""
from types import SimpleNamespace

import pytest
import tensorflow as tf

from planning.model import MemoryModel
from tests.planning.test_model import BATCH, CLASSES, NETWORKS, THREADS, TOLERANCE, measured_peak
from training.blocks import forward_blocks, split_into_blocks
from training.measured_kernels import MeasuredKernels

pytestmark = pytest.mark.kernels

DEFAULTS = {"fgrad_perturbation": "weights", "fgrad_samples": 1, "mezo_samples": 1}


def predicted(kind, **settings):
    make_layers, input_shape = NETWORKS["dense"]
    blocks = split_into_blocks(make_layers())
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    model = MemoryModel(blocks, input_shape, CLASSES, optimizer="momentum", threads=THREADS, global_step=False,
                        kernels=MeasuredKernels(blocks, THREADS, static_batch=True), **dict(DEFAULTS, **settings))
    return model.predict(kind, BATCH)


@pytest.mark.parametrize("kind, settings", [
    ("FGRAD", {"fgrad_perturbation": "activity"}),
    ("FGRAD", {"fgrad_perturbation": "activity", "fgrad_samples": 3}),
    ("MEZO", {"mezo_samples": 3}),
])
def test_the_model_predicts_the_traced_step(kind, settings):
    make_layers, input_shape = NETWORKS["dense"]
    peak, persistent = measured_peak(make_layers, input_shape, kind, config=SimpleNamespace(**dict(DEFAULTS, **settings)))
    prediction = predicted(kind, **settings)
    assert prediction.persistent_bytes == persistent
    assert prediction.peak_bytes == pytest.approx(peak, rel=TOLERANCE), (prediction.peak_op, prediction.peak_bytes, peak)
    # The setting reaches the model: without it the prediction differs.
    without = {key: value for key, value in settings.items() if key.endswith("_samples")} or settings
    assert prediction.peak_bytes != predicted(kind, **{key: DEFAULTS[key] for key in without}).peak_bytes
