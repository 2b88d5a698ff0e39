"""The three convolution kernels of a convnet's step, each timed alone: what DFA's ratio to BP can be.

    python -m benchmarks.conv_kernels [--quick] [--append]

Counted in multiply-adds, a convolution's forward, filter gradient and input gradient cost the
same, so DFA (forward and filter gradients, no input gradients) would take two thirds of BP's
step. The kernels do not run at one rate: for each network, every convolution's forward, filter
gradient and input gradient (all but the first layer's: BP computes none for the data) are timed
alone at the network's shapes, each kind in a graph of its own (every layer on its own random
inputs, one op at a time in the caller's thread, a run's setting), the three graphs in turns.
`DFA / BP` is (forward + filter gradients) / (all three): the ratio the convolutions alone allow,
before the rest of the step (activations, batch norms, updates, DFA's feedback products).
Writes results/conv_kernels.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ...
--append` keeps the other family's rows).
"""
import statistics

import numpy as np

from benchmarks import common
from benchmarks.timed_graph import TimedGraph, one_element_of_each, random_variable

NAME = "conv_kernels"
COLUMNS = ["network", "kernels", "batch_size", "convolutions", "forward_ms", "filter_gradients_ms",
           "input_gradients_ms", "dfa_over_bp"]
KINDS = ("forward", "filter_gradients", "input_gradients")


def networks(quick=False):
    """[(network, batch size)] of step_time's convnets, as it times them."""
    from benchmarks import step_time
    if quick:
        return [(common.conv(3, filters=4), 2)]  # two convolutions: one input gradient
    return [(net, batch) for net, batch in step_time.networks() if net.name in ("long_conv_10", "vgg_16")]


def convolutions(network):
    """[(height, width, in channels, (filter height, filter width), out channels)] of the network's
    convolutions, read from its layers: each at its input's size (stride 1, SAME: the shipped
    convnets'), a max pool's strides shrinking what follows."""
    from layers import ConvolutionalLayer, MaxPool
    height, width, channels = network.input_shape
    found = []
    for layer in network.layers():
        if isinstance(layer, ConvolutionalLayer):
            if tuple(layer.strides) != (1, 1) or layer.padding != "SAME":
                raise ValueError(f"{network.name}: {layer} is not a stride-1 SAME convolution")
            found.append((height, width, channels, tuple(layer.filter_dim), layer.num_of_filters))
            channels = layer.num_of_filters
        elif isinstance(layer, MaxPool):
            height, width = -(-height // layer.strides[0]), -(-width // layer.strides[1])
    return found


def kernel_graph(kind, layers, batch_size, config, seed=0):
    """Every layer's `kind` kernel (forward, filter_gradients, input_gradients), ready to time."""
    import tensorflow as tf
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        def variable(*shape):
            return random_variable(rng, *shape, scale=0.1)
        ops = []
        for index, (height, width, cin, (fh, fw), cout) in enumerate(layers):
            x, w = variable(batch_size, height, width, cin), variable(fh, fw, cin, cout)
            dy = variable(batch_size, height, width, cout)
            if kind == "forward":
                ops.append(tf.nn.conv2d(x, w, 1, "SAME"))
            elif kind == "filter_gradients":
                ops.append(tf.compat.v1.nn.conv2d_backprop_filter(x, [fh, fw, cin, cout], dy, [1, 1, 1, 1], "SAME"))
            elif index > 0:  # no input gradient for the data
                ops.append(tf.compat.v1.nn.conv2d_backprop_input([batch_size, height, width, cin], w, dy, [1, 1, 1, 1],
                                                                 "SAME"))
        step = one_element_of_each(ops)
        init = tf.compat.v1.global_variables_initializer()
    return TimedGraph(graph, step, init, config)


def measure(nets, steps=30, threads=None, log=print):
    """nets: [(network, batch size)], e.g. networks()."""
    from training.kernels import kernel_family
    library = kernel_family().library
    config = common.session_config(threads)
    rows = []
    for network, batch_size in nets:
        name, layers = network.name, convolutions(network)
        benches = {kind: kernel_graph(kind, layers, batch_size, config) for kind in KINDS}
        try:
            times = common.interleaved_step_times(benches, steps, warmup=3)
        finally:
            for bench in benches.values():
                bench.close()
        ms = {kind: 1000 * statistics.median(times[kind]) for kind in KINDS}
        row = {"network": name, "kernels": library, "batch_size": batch_size, "convolutions": len(layers),
               **{f"{kind}_ms": ms[kind] for kind in KINDS},
               "dfa_over_bp": (ms["forward"] + ms["filter_gradients"]) / sum(ms.values())}
        rows.append(row)
        log(f"{name:>14} {library:>6}: forward {ms['forward']:.2f} ms, filter gradients {ms['filter_gradients']:.2f},"
            f" input gradients {ms['input_gradients']:.2f}; DFA / BP {row['dfa_over_bp']:.3f}")
    return rows


def report(rows, out_dir=None, log=print):
    for row in rows:  # read back from the CSV (--append) as floats
        row["batch_size"], row["convolutions"] = int(row["batch_size"]), int(row["convolutions"])
    table = common.markdown_table(COLUMNS, rows, {"batch_size": "batch", "forward_ms": "forward (ms)",
                                                  "filter_gradients_ms": "filter gradients (ms)",
                                                  "input_gradients_ms": "input gradients (ms)",
                                                  "dfa_over_bp": "DFA / BP"})
    notes = f"""Each kind's kernels summed over the network's convolutions (input gradients for all but
the first), medians of the three graphs timed in turns; `DFA / BP` = (forward + filter
gradients) / (all three), against two thirds in multiply-adds. {common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "Convolution kernels, each alone", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[2:], lambda args: measure(
        networks(args.quick), steps=4 if args.quick else 30, threads=args.threads), report)


if __name__ == "__main__":
    main()
