"""Where a BP step's time goes, ours and Keras 3's, phase by phase, one op at a time.

    python -m benchmarks.keras_phases [--quick] [--append]

versus_keras times whole epochs: on long_fc Keras' step is faster than ours with TensorFlow's
inter-op pool and slower with one inter-op thread. This benchmark traces steps of both sides
in a Session that runs every op in the caller's thread, as our runs do, and sums the ops' run
times by phase: forward, backward, update and the rest (input, loss, metrics). Ours are named by
scope (tracing/categories.py); Keras' train_step is imported with each op renamed by its role
(tracing/step_roles.py). What Keras' pool saves (versus_keras, pool against one thread) set
beside the phases shows which work it runs beside the products.

Same networks, batch, data, initialisation and optimizer as versus_keras (momentum SGD, learning
rate 0.01, momentum 0.9); the median of `traces` traced steps after warm-up. Tracing adds a little
to every op, alike on both sides. Writes results/keras_phases.{csv,md}; run once per kernel family
(`TF_ENABLE_ONEDNN_OPTS=0 ... --append` keeps the other family's rows).
"""
import statistics

from benchmarks import common, versus_keras

NAME = "keras_phases"
PHASES = ("forward", "backward", "update", "other")
COLUMNS = ["network", "kernels", "side", "forward_ms", "backward_ms", "update_ms", "other_ms", "total_ms",
           "update_ops", "ops"]


def phase_of(node_name):
    """forward, backward or update from a traced node's first scope; anything else is other."""
    scope = node_name.split("/", 1)[0]
    return scope if scope in PHASES else "other"


def traced_phases(session, fetches, feed_dict=None, traces=5):
    """{phase_ms: median ms per phase, update_ops, ops} over `traces` traced runs of `fetches`."""
    import tracing
    per_run = []
    for _ in range(traces):
        nodes = tracing.trace(session, fetches, feed_dict).node_stats
        times = dict.fromkeys(PHASES, 0.0)
        for node in nodes:
            times[phase_of(node.name)] += node.run_time_us / 1000
        per_run.append((times, sum(phase_of(node.name) == "update" for node in nodes), len(nodes)))
    row = {f"{phase}_ms": statistics.median(times[phase] for times, _, _ in per_run) for phase in PHASES}
    row["total_ms"] = statistics.median(sum(times.values()) for times, _, _ in per_run)
    row["update_ops"], row["ops"] = per_run[-1][1], per_run[-1][2]
    return row


def ours(sequence, dataset, batch_size, threads, traces, warmup=3):
    """Our BP training graph (versus_keras.OurTraining), traced mid-epoch."""
    training = versus_keras.OurTraining(sequence, dataset, batch_size, threads)
    try:
        training.start_epoch()
        for _ in range(warmup):
            training.session.run(training.fetches)
        return traced_phases(training.session, training.fetches, traces=traces)
    finally:
        training.close()


def keras_side(sequence, dataset, batch_size, threads, traces, warmup=3):
    """Keras' compiled train_step on one batch, imported into a Session with our run's settings."""
    import keras
    import tensorflow as tf

    from definitions.registry import get_sequence
    from tracing.keras_step import build_for_step, keras_train_step
    from tracing.tf_step_import import feed_dict, import_step
    model = versus_keras.keras_model(get_sequence(sequence)(dataset.num_classes), dataset.input_shape)
    model.compile(optimizer=keras.optimizers.SGD(versus_keras.LEARNING_RATE, momentum=versus_keras.MOMENTUM),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batch = (tf.convert_to_tensor(dataset.x_train[:batch_size]), tf.convert_to_tensor(dataset.y_train[:batch_size]))
    build_for_step(model, *batch)
    step = import_step(keras_train_step(model), (batch,))
    feed = feed_dict(step, (batch,))
    with tf.compat.v1.Session(graph=step.graph, config=common.session_config(threads)) as session:
        session.run(step.init_op, feed_dict=step.init_feed)
        for _ in range(warmup):
            session.run(step.fetches, feed_dict=feed)
        return traced_phases(session, step.fetches, feed, traces)


def measure(networks=versus_keras.NETWORKS, batch_size=common.BATCH_SIZE, traces=5, threads=None, log=print):
    from definitions.datasets import synthetic
    from training.kernels import kernel_family
    library = kernel_family().library
    # Enough batches for the warm-up and traced steps of one epoch of ours.
    dataset = synthetic(versus_keras.INPUT_SHAPE, versus_keras.CLASSES, (3 + traces + 1) * batch_size, seed=0)
    rows = []
    for name, sequence in networks:
        for side, run in (("ours", ours), ("Keras", keras_side)):
            row = {"network": name, "kernels": library, "side": side,
                   **run(sequence, dataset, batch_size, threads, traces)}
            rows.append(row)
            log(f"{name:>32} {library:>6} {side:>5}: " + ", ".join(f"{p} {row[p + '_ms']:.2f}" for p in PHASES)
                + f" ms; {row['update_ops']} update ops of {row['ops']}")
    return rows


def report(rows, out_dir=None, log=print):
    for row in rows:  # counts read back from the CSV (--append) come as floats
        row["update_ops"], row["ops"] = int(row["update_ops"]), int(row["ops"])
    table = common.markdown_table(COLUMNS, rows, {"forward_ms": "forward (ms)", "backward_ms": "backward (ms)",
                                                  "update_ms": "update (ms)", "other_ms": "other (ms)",
                                                  "total_ms": "all ops (ms)", "update_ops": "update ops"})
    notes = f"""Run time of the ops of one BP step (median of traced steps), summed by phase, in a Session
that runs one op at a time in the caller's thread (our runs' setting). ours: the trainer's BP graph
(momentum: one ResourceApplyMomentum per variable); Keras: `model.train_step` of the same network
compiled with keras.optimizers.SGD(momentum=0.9), imported op for op (tracing/tf_step_import.py).
Batch {common.BATCH_SIZE} of synthetic 28x28x1 data. {common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "A BP step by phase, ours and Keras'", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        versus_keras.NETWORKS[:1] if args.quick else versus_keras.NETWORKS, traces=2 if args.quick else 5,
        threads=args.threads), report)


if __name__ == "__main__":
    main()
