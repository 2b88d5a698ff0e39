"""Why FA's and DFA's block-by-block updates cost more than BP's on oneDNN: weight-gradient
products with a momentum update after each, after every few, or all at the end.

    python -m benchmarks.update_interleave [--quick] [--append]

FA and DFA apply each block's momentum update as soon as its gradients exist, in the backward
pass; BP applies them all after the last gradient
(ARCHITECTURE.md, "Updates that race reads copy variables").
On long_fc, oneDNN, the rules' steps are slower than their arithmetic implies
and benchmarks.update_order puts the difference in that interleaving. This benchmark isolates it
from the training graphs: `blocks` links of a chain, each a weight-gradient product x^T d and an
input-gradient product d W^T (long_fc's shapes: batch 100, 500 x 500), each link waiting for the
one before it, with every link's momentum update applied right after its weight gradient
(group 1, FA's and DFA's way), after every `group` links' gradients (holding that many at once),
or all at the end (BP's way, holding every gradient). The variants take turns in one process.
Writes results/update_interleave.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0
... --append` keeps the other family's rows).
"""
import statistics

import numpy as np

from benchmarks import common
from benchmarks.timed_graph import TimedGraph, random_variable

NAME = "update_interleave"
COLUMNS = ["kernels", "updates", "gradients_held", "median_ms", "ratio_to_at_end"]
AT_END = "at the end"
GROUPS = (1, 2, 4)


def chain(links, batch_size, width, group, config, seed=0):
    """The chain with updates every `group` links (None: all at the end), ready to time."""
    import tensorflow as tf
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        def variable(*shape):
            return random_variable(rng, *shape, scale=0.01)
        xs, ds = [variable(batch_size, width) for _ in range(links)], [variable(batch_size, width) for _ in range(links)]
        # Link i reads weight i + 1 (the next layer's, as a backward does) after weight i + 1's
        # update can have run only in BP's order; the last link reads one that is never updated.
        weights, velocities = [variable(width, width) for _ in range(links + 1)], [variable(width, width) for _ in range(links)]

        def update(index, gradient):  # learning rate 0: the weights, and so the products, stay the same
            return tf.raw_ops.ResourceApplyMomentum(var=weights[index].handle, accum=velocities[index].handle,
                                                    lr=0.0, grad=gradient, momentum=0.9)

        done, pending, updates, reads = [], [], [], []
        for index in range(links):
            with tf.control_dependencies(done):
                gradient = tf.matmul(xs[index], ds[index], transpose_a=True)
                input_gradient = tf.matmul(ds[index], weights[index + 1], transpose_b=True)
            reads.append(input_gradient[0, 0])
            pending.append((index, gradient))
            done = [gradient, input_gradient]
            if group and (len(pending) == group or index == links - 1):
                with tf.control_dependencies([tf.identity(g) for _, g in pending]):
                    updates += [update(i, g) for i, g in pending]
                done, pending = updates[-len(pending):] + [input_gradient], []
        if not group:
            with tf.control_dependencies([g for _, g in pending]):
                updates = [update(i, g) for i, g in pending]
        with tf.control_dependencies(updates):
            step = tf.add_n(reads)
        init = tf.compat.v1.global_variables_initializer()
    return TimedGraph(graph, step, init, config)


def measure(links=20, batch_size=common.BATCH_SIZE, width=500, groups=GROUPS, steps=40, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    config = common.session_config(threads)
    variants = {AT_END: None, **{f"every {g}" if g > 1 else "after each": g for g in groups}}
    benches = {name: chain(links, batch_size, width, group, config) for name, group in variants.items()}
    try:
        times = common.interleaved_step_times(benches, steps, warmup=5, rounds=8)
    finally:
        for bench in benches.values():
            bench.close()
    at_end = statistics.median(times[AT_END])
    rows = []
    for name, group in variants.items():
        median = statistics.median(times[name])
        rows.append({"kernels": library, "updates": name, "gradients_held": group or links,
                     "median_ms": 1000 * median, "ratio_to_at_end": median / at_end})
        log(f"{library:>6} {name:>12}: {1000 * median:.2f} ms ({median / at_end:.3f} of at the end)")
    return rows


def report(rows, out_dir=None, log=print):
    for row in rows:  # read back from the CSV (--append) as floats
        row["gradients_held"] = int(row["gradients_held"])
    table = common.markdown_table(COLUMNS, rows, {"gradients_held": "weight gradients held at once",
                                                  "median_ms": "median (ms)", "ratio_to_at_end": "/ at the end"})
    notes = f"""A chain of 20 links, each a weight-gradient product (100 x 500)^T (100 x 500) and an
input-gradient product (100 x 500)(500 x 500)^T waiting for the link before it, with a momentum
update (ResourceApplyMomentum, learning rate 0) of a 500 x 500 weight per link: after each link,
after every few links, or all after the last. Median of the variants timed in turns, one op at a
time in the caller's thread (a run's setting). {common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "Momentum updates between the products, or at the end", table,
                         notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[2:], lambda args: measure(
        links=4 if args.quick else 20, width=64 if args.quick else 500, steps=6 if args.quick else 40,
        threads=args.threads), report)


if __name__ == "__main__":
    main()
