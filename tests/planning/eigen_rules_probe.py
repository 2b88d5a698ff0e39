"""Run as `python -m tests.planning.eigen_rules_probe` (TF_ENABLE_ONEDNN_OPTS=0): prints, as JSON,
[network, type, peak from planning/layers.py's rules, peak from the measured kernels] for every
type on test_model's networks, then on the batch-norm network at a batch where its normalisations
decide the peak (fused, the layer's default) and unfused at test_model's batch. test_layer_rules.py
reads it."""
import json

import tensorflow as tf

from definitions.errors import ConfigError
from planning.model import ALGORITHMS, MemoryModel
from layers.batch_norm import unfused
from tests.planning.test_model import BATCH, CLASSES, NETWORKS, THREADS, undefined
from training.blocks import forward_blocks, split_into_blocks
from training.kernels import kernel_family
from training.measured_kernels import MeasuredKernels


#: at 32 examples the batch-norm network's peak is its weights; at 1024 its activations.
LARGE_BATCH = 1024


def unfused_layers(make_layers):
    return lambda: unfused(make_layers())


def networks():
    """(name, make_layers, input shape, batch)."""
    for name, (make_layers, input_shape) in sorted(NETWORKS.items()):
        yield name, make_layers, input_shape, BATCH
    make_layers, input_shape = NETWORKS["batch_norm"]
    yield "batch_norm, fused, large batch", make_layers, input_shape, LARGE_BATCH
    yield "batch_norm, unfused", unfused_layers(make_layers), input_shape, BATCH


def rows():
    for name, make_layers, input_shape, batch in networks():
        blocks = split_into_blocks(make_layers())
        with tf.Graph().as_default():
            forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
        settings = dict(optimizer="momentum", threads=THREADS, global_step=False)
        rules = MemoryModel(blocks, input_shape, CLASSES, **settings)
        measured = MemoryModel(blocks, input_shape, CLASSES, **settings,
                               kernels=MeasuredKernels(blocks, THREADS, static_batch=True))
        for kind in ALGORITHMS:
            if undefined(kind, make_layers):
                continue
            try:
                yield [name, kind, rules.predict(kind, batch).peak_bytes, measured.predict(kind, batch).peak_bytes]
            except ConfigError:  # FGRAD refuses the networks that are not dense
                continue


if __name__ == "__main__":
    print(json.dumps({"library": kernel_family().library, "rows": list(rows())}))
