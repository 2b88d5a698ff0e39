"""The fastest a BP (or DFA) step of a dense network could be on this machine: its floor.

    floor = the step's GEMMs, timed alone in this process
          + the bytes the rest of the step must move / the memory bandwidth measured here

The GEMMs are the step's own: per kernel of shape (n, m) at batch B, the forward product
(B x n)(n x m), the weight gradient (n x B)(B x m) and, for BP except for the first layer, the
input gradient (B x m)(m x n); DFA has no input gradients but projects the output error
(B x classes) through each hidden layer's feedback matrix (classes x m). The two floors' ratio
is what the GEMMs allow DFA against BP: the products DFA leaves out are not the ones that run
slowest (a weight gradient sums over the batch only, K = B). They run in one session with a run's thread settings, one after the
other as a run executes them, on inputs of the same shapes, so the floor's GEMM rate is the one
the step can reach, not a datasheet's. The benchmark times them in turns with the training
steps, so that load from other processes falls on the floor and the step alike.

The bytes are those no fusion can avoid: for each layer the activation's gradient (read the
output and its gradient, write the pre-activation's gradient: 3 x B x m floats), the bias
gradient (read B x m) and the momentum update (read weight, gradient, velocity; write weight and
velocity: 5 x (n x m + m) floats). The forward bias and activation are not counted: oneDNN fuses
them into the product. The bandwidth is measured by adding one 256 MiB array into another in
place (read both, write one): a DRAM rate, slower than the caches that hold a 500 x 500 layer, so
this term is an over-estimate and the floor a generous one. In place, because a new 256 MiB output
(`y = x + 1`, this benchmark's first stream) is fresh memory on every run under Eigen's kernels,
whose CPU allocator takes large buffers from the system and gives them back, so that stream timed
page faults, not the memory bus (3.4 GB/s against 52 on an AMD EPYC, 8 against 24 on a Xeon, where
oneDNN's pooled allocator hid them), and Eigen's floor came out below BP's own step.
"""
import statistics

import numpy as np

from benchmarks.timed_graph import TimedGraph, one_element_of_each, random_variable

FLOAT = 4
STREAM_FLOATS = 64 * 2**20  # 256 MiB of float32: larger than any cache


def dense_kernels(blocks):
    """[(n, m)] of every weight layer's kernel, in order; None if a layer is not dense."""
    from layers import WeightLayer
    from layers.dense import FullyConnected
    shapes = []
    for block in blocks:
        for layer in block.layers:
            if isinstance(layer, WeightLayer):
                if not isinstance(layer, FullyConnected):
                    return None
                shapes.append(tuple(int(d) for d in layer.kernel.shape))
    return shapes


#: the rules with a floor: BP's products, and DFA's (no input gradients, a feedback projection per hidden layer).
RULES = ("BP", "DFA")


def gemm_macs(kernels, batch_size, rule="BP"):
    forward = sum(batch_size * n * m for n, m in kernels)
    if rule == "DFA":
        classes = kernels[-1][1]
        return 2 * forward + sum(batch_size * classes * m for _, m in kernels[:-1])  # + feedback projections
    input_gradients = sum(batch_size * n * m for n, m in kernels[1:])
    return 2 * forward + input_gradients  # forward + weight gradients + input gradients


def moved_bytes(kernels, batch_size):
    return FLOAT * sum(3 * batch_size * m + batch_size * m + 5 * (n * m + m) for n, m in kernels)


def gemm_bench(kernels, batch_size, config, rule="BP"):
    """The step's GEMMs alone (BP's or DFA's), each on its own random inputs."""
    import tensorflow as tf
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        products = []
        for index, (n, m) in enumerate(kernels):
            x, w = random_variable(rng, batch_size, n), random_variable(rng, n, m)
            d = random_variable(rng, batch_size, m)
            products.append(tf.matmul(x, w))
            products.append(tf.matmul(x, d, transpose_a=True))
            if rule == "BP" and index:
                products.append(tf.matmul(d, w, transpose_b=True))
            if rule == "DFA" and index < len(kernels) - 1:
                classes = kernels[-1][1]
                products.append(tf.matmul(random_variable(rng, batch_size, classes), random_variable(rng, classes, m)))
        step = one_element_of_each(products)
        init = tf.compat.v1.global_variables_initializer()
    return TimedGraph(graph, step, init, config)


#: floats moved per float of the stream: y += x reads x and y and writes y.
STREAM_PASSES = 3


def stream_bench(config, floats=STREAM_FLOATS):
    """y += x in place, x and y `floats` floats each: no new buffer, so no page faults to time."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        x, y = tf.Variable(tf.ones([floats])), tf.Variable(tf.zeros([floats]))
        step = y.assign_add(x, read_value=False)
        init = tf.compat.v1.global_variables_initializer()
    return TimedGraph(graph, step, init, config)


def gemm_key(rule):
    """The name of a rule's GEMM bench among benches()."""
    return "gemm" if rule == "BP" else f"gemm_{rule}"


def benches(blocks, batch_size, config, stream_floats=None, rules=("BP",)):
    """{"gemm": BP's GEMMs, "gemm_DFA": DFA's (if asked), "stream": ...} to time in turns with the
    steps, or None for a network with other than dense kernels."""
    kernels = dense_kernels(blocks)
    if not kernels:
        return None
    return {**{gemm_key(rule): gemm_bench(kernels, batch_size, config, rule) for rule in rules},
            "stream": stream_bench(config, stream_floats or STREAM_FLOATS)}


def from_times(kernels, batch_size, gemm_seconds, stream_seconds, stream_floats=None, rule="BP"):
    """A rule's floor from the median times of its GEMM bench and the stream (kernels: dense_kernels')."""
    bandwidth = STREAM_PASSES * (stream_floats or STREAM_FLOATS) * FLOAT / stream_seconds
    moved = moved_bytes(kernels, batch_size)
    return {"gemm_ms": 1000 * gemm_seconds,
            "gemm_gflops": 2 * gemm_macs(kernels, batch_size, rule) / gemm_seconds / 1e9,
            "bytes_mib": moved / 2**20, "bandwidth_gbs": bandwidth / 1e9, "bytes_ms": 1000 * moved / bandwidth,
            "floor_ms": 1000 * (gemm_seconds + moved / bandwidth)}


def floor(blocks, batch_size, config, stream_floats=None, repeats=20, rule="BP"):
    """A rule's floor measured on its own (not in turns with a step), or None (not dense)."""
    timed = benches(blocks, batch_size, config, stream_floats, rules=(rule,))
    if timed is None:
        return None
    try:
        medians = {key: statistics.median(bench.run(repeats + 3)[3:]) for key, bench in timed.items()}
    finally:
        for bench in timed.values():
            bench.close()
    return from_times(dense_kernels(blocks), batch_size, medians[gemm_key(rule)], medians["stream"], stream_floats,
                      rule)
