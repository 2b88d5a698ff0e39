"""The thread settings of every session that runs a traced step: runs, kernel probes, benchmarks,
a user's own step (`experiment trace`, trace_function, trace_keras).

Every op runs in the calling thread (`inter_op_parallelism_threads` < 0), in the order the ops
become ready, while each kernel still uses every core through its intra-op threads. So a step's
ops run in the same order in every step and every process, and the memory model
(planning/algorithms.py, replaying each block's kernels as the probe saw them run in the same
way) predicts that order. With an inter-op thread pool, independent ops raced (a residual
block's two branches, batch norm's gradients, one block's backward beside the next block's
forward) and the traced peak changed from step to step by up to a fifth (resnet_18 and
resnet_50, DFA, DFAMEM and DRTP). Even with one pool thread, the executor ran an op at once or
queued it by its own timing of the op, so the order still changed from process to process and
with the machine's load. See ARCHITECTURE.md, "One op at a time".
"""
import os

#: TensorFlow's ConfigProto: "Negative means all operations are performed in caller's thread."
INTER_OP_THREADS = -1


def intra_op_threads(threads=None):
    """The intra-op threads a session uses: `threads`, else one per CPU core (TensorFlow's default)."""
    return int(threads) if threads else (os.cpu_count() or 1)


def session_config(threads=None, inter_op_threads=INTER_OP_THREADS):
    import tensorflow as tf
    return tf.compat.v1.ConfigProto(intra_op_parallelism_threads=intra_op_threads(threads),
                                    inter_op_parallelism_threads=inter_op_threads)
