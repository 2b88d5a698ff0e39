"""Our BP epoch against Keras 3 `model.fit` on the same network, data, batch, optimizer and threads.

    python -m benchmarks.versus_keras [--quick] [--epochs N] [--append] [--keras-inter-op N]

Ours: the training graph the trainer builds (training.graph.build_training_graph: tf.data from
arrays in memory, reshuffled every epoch), run the way Trainer._train_epoch runs it (fetch the
train op, the loss and the step counter; check the loss is finite). Keras: the same layers as
keras.layers.Dense, the same Glorot-uniform initialisation, SparseCategoricalCrossentropy from
logits, SGD with the same learning rate and momentum, `fit(x, y, batch_size, shuffle=True)` on
the same arrays, verbose=0. Keras runs twice: as `compile()` leaves it (jit_compile="auto",
which is XLA on a CPU) and with jit_compile=False. Both sides use the same intra-op threads;
each side runs its ops as it does for a user (ours in the caller's thread, Keras on TensorFlow's
inter-op pool). Run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=1`, then `=0 ... --append`).

Epochs alternate (one `fit(epochs=1)` call, timed from its on_epoch_begin to on_epoch_end, then
one of our epochs), so load from other processes falls on both sides alike. The first epoch of each side (graph
optimisation, tracing, XLA compilation) is not timed. Reported: the median epoch time of each
side and their ratio. Writes results/versus_keras.{csv,md}.
"""
import math
import statistics
import time

from benchmarks import common

COLUMNS = ["network", "kernels", "keras_jit_compile", "keras_inter_op", "ours_epoch_s", "keras_epoch_s", "ratio",
           "ours_step_ms", "keras_step_ms", "steps_per_epoch", "epochs", "threads"]
#: keras_inter_op of a row whose Keras kept TensorFlow's inter-op pool (as a Keras user has it).
POOL = "pool"
NAME = "versus_keras"
#: The MLPs compared: (network name, sequence in definitions/sequences.py).
#: long_fc is the deep MLP of the other benchmarks; the two others are the usual MNIST MLPs.
NETWORKS = (("long_fc (20 x 500, sigmoid)", "long_fc"), ("experiment_mnist_fc (3 x 800, relu)", "experiment_mnist_fc"),
            ("fcReLu (2 x 256, relu)", "fcReLu"), ("experiment_mnist_conv (2 conv 5x5, 512, relu)", "experiment_mnist_conv"))
#: The speed issue's target: our BP epoch no slower than Keras' on the same network.
LIMIT = 1.0
INPUT_SHAPE = (28, 28, 1)
CLASSES = 10
LEARNING_RATE, MOMENTUM = 0.01, 0.9


def set_threads(threads, keras_inter_op=None):
    """Our sessions' intra-op threads for TensorFlow's eager context (Keras) too; Keras keeps its
    inter-op pool (TensorFlow's default), as a Keras user has it, unless keras_inter_op sets its
    size (1: Keras' ops one at a time, as ours run).

    The eager context takes them only before it starts; if something already started it (a
    test run), its settings are left alone and the row records what was really used.
    """
    import tensorflow as tf
    intra, inter = common.thread_counts(threads)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        if keras_inter_op:
            tf.config.threading.set_inter_op_parallelism_threads(keras_inter_op)
    except RuntimeError:
        pass
    used = tf.config.threading.get_intra_op_parallelism_threads()
    return f"ours {intra},{inter}; keras {used},{tf.config.threading.get_inter_op_parallelism_threads()}"


def keras_model(layers, input_shape):
    """The same architecture in Keras: FullyConnected -> Dense, the activation after it fused."""
    import keras

    from layers import AveragePool, ConvolutionalLayer, FullyConnected, MaxPool, ReLu, Sigmoid, Tanh
    activations = {Sigmoid: "sigmoid", ReLu: "relu", Tanh: "tanh"}
    stack = [keras.Input(input_shape)]
    for layer in layers:
        if isinstance(layer, ConvolutionalLayer):
            stack.append(keras.layers.Conv2D(layer.num_of_filters, tuple(layer.filter_dim), tuple(layer.strides),
                                             padding=layer.padding.lower(), use_bias=layer.add_biases,
                                             kernel_initializer="glorot_uniform"))
        elif isinstance(layer, (MaxPool, AveragePool)) and layer.kernel_size is not None:
            pool = keras.layers.MaxPooling2D if isinstance(layer, MaxPool) else keras.layers.AveragePooling2D
            stack.append(pool(tuple(layer.kernel_size), tuple(layer.strides), padding=layer.padding.lower()))
        elif type(layer) in activations and not isinstance(stack[-1], keras.layers.Dense):
            stack.append(keras.layers.Activation(activations[type(layer)]))
        elif isinstance(layer, FullyConnected):
            if layer.flatten and len(input_shape) > 1:
                stack.append(keras.layers.Flatten())
            stack.append(keras.layers.Dense(layer.output_dim, use_bias=layer.add_biases,
                                            kernel_initializer="glorot_uniform"))
        elif type(layer) in activations and isinstance(stack[-1], keras.layers.Dense) \
                and stack[-1].activation is keras.activations.linear:
            stack[-1] = keras.layers.Dense(stack[-1].units, activation=activations[type(layer)],
                                           use_bias=stack[-1].use_bias, kernel_initializer="glorot_uniform")
        else:
            raise ValueError(f"versus_keras has no Keras counterpart for {layer}")
    return keras.Sequential(stack)


class OurTraining:
    """Our BP training graph and the trainer's epoch loop."""

    def __init__(self, sequence, dataset, batch_size, threads, seed=1, autotune=False):
        import tensorflow as tf

        from definitions.config import validate
        from training.graph import build_training_graph
        self.tf = tf
        self.config = validate({"name": sequence, "type": "BP", "dataset_name": "synthetic", "sequence": sequence,
                                "batch_size": batch_size, "seed": seed, "optimizer": "momentum",
                                "learning_rate": LEARNING_RATE, "momentum": MOMENTUM,
                                "synthetic_shape": list(dataset.input_shape), "synthetic_classes": dataset.num_classes,
                                "synthetic_size": len(dataset.x_train)})
        self.dataset = dataset
        self.model = build_training_graph(self.config, dataset, autotune=autotune)
        self.session = tf.compat.v1.Session(graph=self.model.graph, config=common.session_config(threads))
        self.session.run(self.model.init_op)
        self.fetches = [self.model.step.train_op, self.model.step.loss, self.model.increment_step]
        self.epoch = 0

    def start_epoch(self):
        """Reshuffle the training split and start a pass over it, as Trainer._train_epoch does."""
        from training.graph import epoch_shuffle_seed
        model, data = self.model, self.dataset
        self.epoch += 1
        self.session.run(model.train_init, {model.features_in: data.x_train, model.labels_in: data.y_train,
                                            model.shuffle_seed: epoch_shuffle_seed(self.config.seed, self.epoch)})

    def run_epoch(self):
        """One pass over the training split, as Trainer._train_epoch; returns its seconds (the
        epoch's start, re-initialising the iterator, is `last_start_s` of them)."""
        started = time.perf_counter()
        self.start_epoch()
        self.last_start_s = time.perf_counter() - started
        while True:
            try:
                _, loss, _ = self.session.run(self.fetches)
            except self.tf.errors.OutOfRangeError:
                break
            if not math.isfinite(loss):
                raise RuntimeError("our BP diverged in the benchmark")
        return time.perf_counter() - started

    def close(self):
        self.session.close()


def compare(sequence, dataset, jit_compile, epochs, batch_size=common.BATCH_SIZE, threads=None):
    """(our epoch seconds, Keras epoch seconds), alternating, the first epoch of each left out."""
    import keras

    from definitions.registry import get_sequence
    ours = OurTraining(sequence, dataset, batch_size, threads)
    ours.run_epoch()  # warm-up: Grappler optimises the graph on the first run
    model = keras_model(get_sequence(sequence)(dataset.num_classes), dataset.input_shape)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit_compile)
    our_times, keras_times = [], []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            keras_times.append(time.perf_counter() - self.started)

    try:
        # One fit call per epoch (Keras keeps its compiled train function between calls): our
        # epochs run between them, never while a fit is in progress, where Keras' own threads
        # (tf.data, XLA) would still be busy and slow ours down.
        for _ in range(epochs + 1):
            model.fit(dataset.x_train, dataset.y_train, batch_size=batch_size, epochs=1, shuffle=True,
                      verbose=0, callbacks=[EpochTimer()])
            our_times.append(ours.run_epoch())
    finally:
        ours.close()
    return our_times[1:], keras_times[1:]


def measure(networks=NETWORKS, data_size=3000, epochs=8, jit_modes=("auto", False), batch_size=common.BATCH_SIZE,
            threads=None, log=print, keras_inter_op=None):
    from definitions.datasets import synthetic
    from training.kernels import kernel_family
    library = kernel_family().library
    used_threads = set_threads(threads, keras_inter_op)
    dataset = synthetic(INPUT_SHAPE, CLASSES, data_size, seed=0)
    steps = math.ceil(data_size / batch_size)
    rows = []
    for name, sequence in networks:
        for jit in jit_modes:
            ours, theirs = compare(sequence, dataset, jit, epochs, batch_size, threads)
            ours_s, keras_s = statistics.median(ours), statistics.median(theirs)
            rows.append({"network": name, "kernels": library, "keras_jit_compile": str(jit),
                         "keras_inter_op": str(keras_inter_op) if keras_inter_op else POOL, "ours_epoch_s": ours_s,
                         "keras_epoch_s": keras_s, "ratio": ours_s / keras_s,
                         "ours_step_ms": 1000 * ours_s / steps, "keras_step_ms": 1000 * keras_s / steps,
                         "steps_per_epoch": steps, "epochs": len(ours), "threads": used_threads})
            log(f"{name:>32} keras jit_compile={jit!s:5}: ours {ours_s:.3f} s, keras {keras_s:.3f} s, "
                f"ratio {ours_s / keras_s:.3f}")
    return rows


def targets(rows):
    """Against Keras as its users run it (its inter-op pool); the other rows explain, not judge."""
    return [(f"our BP epoch / Keras fit epoch, {r['network']}, {r.get('kernels', '?')}, "
             f"keras jit_compile={r['keras_jit_compile']}", r["ratio"], LIMIT, r["ratio"] <= LIMIT) for r in rows
            if r.get("keras_inter_op", POOL) == POOL]


def report(rows, out_dir=None, log=print):
    headers = {"keras_jit_compile": "Keras jit_compile", "keras_inter_op": "Keras inter-op threads",
               "ours_epoch_s": "ours (s/epoch)",
               "keras_epoch_s": "Keras (s/epoch)", "ratio": "ours / Keras", "ours_step_ms": "ours (ms/step)",
               "keras_step_ms": "Keras (ms/step)"}
    table = common.markdown_table(COLUMNS[:9], rows, headers)
    checks = targets(rows)
    first = rows[0] if rows else {}
    notes = common.targets_markdown(checks) + f"""
BP on synthetic MNIST-shaped data ({INPUT_SHAPE[0]}x{INPUT_SHAPE[1]}x{INPUT_SHAPE[2]}, {CLASSES} classes),
{first.get('steps_per_epoch', '?')} steps of batch {common.BATCH_SIZE} per epoch, momentum SGD
(learning rate {LEARNING_RATE}, momentum {MOMENTUM}), the same intra-op threads on both sides
({first.get('threads', '?')}: ours runs every op in the caller's thread, -1); median over {first.get('epochs', '?')} alternating epochs after one warm-up
epoch each. jit_compile=auto is what Keras 3 `compile()` does by default: XLA on a CPU.

Where the time goes: both sides run the same products. Keras' momentum update is several
element-wise ops per weight (multiply, subtract, assign-add) where ours is one
ResourceApplyMomentum kernel, so its ops, run one at a time, take longer than ours; but Keras
runs them on TensorFlow's inter-op pool, each weight's update as soon as its gradient exists,
beside the backward products of the layers below. Ours runs one op at a time in the caller's
thread, every update after the last gradient (BP's order), so that the memory of each step is
the same and predicted. Rows with "Keras inter-op threads" 1 give Keras the same one-at-a-time
execution (`--keras-inter-op 1`, a process of its own: the eager context takes it only before
it starts): there ours is the faster on every network. Our step also costs less around the
arithmetic (one Session.run of a pruned graph against Keras' Python loop, callbacks and
tf.function call), which decides small MLPs. The targets compare with Keras as its users run
it (the pool).

{common.machine_line()}.

Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.versus_keras`, then
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.versus_keras --append`.
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Our BP against Keras 3 model.fit", table, notes)
    log(table + "\n" + common.targets_markdown(checks))


def kept_rows(path, rows):
    """The CSV's rows of another kernel family or Keras inter-op setting than `rows`' (rows written
    before the setting was a column had Keras' pool)."""
    old = common.read_rows(path, {name: float for name in ("ours_epoch_s", "keras_epoch_s", "ratio", "ours_step_ms",
                                                           "keras_step_ms")})
    key = (rows[0]["kernels"], rows[0]["keras_inter_op"])
    return [dict(row, keras_inter_op=row.get("keras_inter_op") or POOL) for row in old
            if (row.get("kernels"), row.get("keras_inter_op") or POOL) != key]


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs per side (default 8; 2 with --quick)")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/versus_keras.csv of other kernel families or Keras inter-op "
                             "settings (run once per family and setting)")
    parser.add_argument("--keras-inter-op", type=int, default=None, metavar="N",
                        help="Keras' inter-op threads (1: one op at a time, as ours; default TensorFlow's pool)")
    args = parser.parse_args(argv)
    if args.quick:
        rows = measure(networks=NETWORKS[2:3], data_size=1000, epochs=args.epochs or 2, threads=args.threads,
                       keras_inter_op=args.keras_inter_op)
    else:
        rows = measure(epochs=args.epochs or 8, threads=args.threads, keras_inter_op=args.keras_inter_op)
    if args.append and rows:
        rows = kept_rows(common.result_path(NAME, "csv", args.out), rows) + rows
    report(rows, args.out)


if __name__ == "__main__":
    main()
