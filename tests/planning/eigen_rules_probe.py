"""Run as `python -m tests.planning.eigen_rules_probe` (TF_ENABLE_ONEDNN_OPTS=0): prints, as JSON,
[network, type, peak from planning/layers.py's rules, peak from the measured kernels] for every
type on test_model's networks. test_layer_rules.py reads it."""
import json

import tensorflow as tf

from definitions.errors import ConfigError
from planning.model import ALGORITHMS, MemoryModel
from tests.planning.test_model import BATCH, CLASSES, NETWORKS, THREADS, undefined
from training.blocks import forward_blocks, split_into_blocks
from training.kernels import kernel_family
from training.measured_kernels import MeasuredKernels


def rows():
    for name, (make_layers, input_shape) in sorted(NETWORKS.items()):
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
                yield [name, kind, rules.predict(kind, BATCH).peak_bytes, measured.predict(kind, BATCH).peak_bytes]
            except ConfigError:  # FGRAD refuses the networks that are not dense
                continue


if __name__ == "__main__":
    print(json.dumps({"library": kernel_family().library, "rows": list(rows())}))
