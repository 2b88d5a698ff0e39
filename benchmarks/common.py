"""What the benchmarks share: the networks, one training graph per (network, type), timing,
tracing, the DFAMEM lower bound and the table writers.

A benchmark graph is the trainer's graph without evaluation: the arrays enter through
placeholders into a shuffled, repeated tf.data pipeline, the blocks come from
definitions/sequences.py, the step from the algorithm registry, the optimizer from the config.
Every type runs on the same data, batch and optimizer, in sessions with the same thread settings.
"""
import os

# Before TensorFlow is imported (definitions imports it): full traces log a few lines per step.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training.malloc_settings import keep_freed_memory  # noqa: E402
from training.onednn_primitives import keep_onednn_primitives  # noqa: E402

# Steps are timed as runs take them: with freed memory kept in the process (ZPPMEM_MALLOC) and
# oneDNN's convolution-gradient primitives kept between steps (TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE).
MALLOC = keep_freed_memory()
ONEDNN_PRIMITIVES = keep_onednn_primitives()

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from definitions.config import TRAINING_TYPES, validate  # noqa: E402
from definitions.datasets import synthetic  # noqa: E402
from definitions.files import atomic_write_text  # noqa: E402
from definitions.sequences import long_conv, long_fc  # noqa: E402

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# The six types these benchmarks compare, the two exact ones (BP, BPCKPT) first: the tables'
# order. The other rules of TRAINING_TYPES have a benchmark of their own (the learning-rule atlas).
TYPES = ("BP", "BPCKPT", "FA", "DFA", "DFAMEM", "DRTP")
assert set(TYPES) <= set(TRAINING_TYPES)
BATCH_SIZE = 100
MIB = 2**20


@dataclass(frozen=True)
class Network:
    name: str
    family: str  # "long_fc", "long_conv" or any sequence of definitions/sequences.py
    blocks: int
    input_shape: tuple
    classes: int = 10
    width: int = 500  # units (long_fc) or filters (long_conv)

    def layers(self):
        if self.family == "long_fc":
            return long_fc(self.classes, blocks=self.blocks, width=self.width)
        if self.family == "long_conv":
            return long_conv(self.classes, blocks=self.blocks, filters=self.width)
        from definitions.registry import get_sequence
        return get_sequence(self.family)(self.classes)


def named(sequence, input_shape=(32, 32, 3)):
    """A shipped sequence (vgg_16, resnet_18, ...) on synthetic input of `input_shape`."""
    return Network(sequence, sequence, 0, tuple(input_shape))


def mlp(blocks, width=500):
    """long_fc on MNIST-shaped input (28x28x1, flattened by the first layer)."""
    return Network(f"long_fc_{blocks}", "long_fc", blocks, (28, 28, 1), width=width)


def conv(blocks, filters=32):
    """long_conv on 16x16x3 input: every block's output is 100x16x16x32 floats at batch 100."""
    return Network(f"long_conv_{blocks}", "long_conv", blocks, (16, 16, 3), width=filters)


def thread_counts(threads=None):
    """(intra-op, inter-op) threads: an int sets the intra-op threads, a pair each; by default
    one per CPU core and every op in the caller's thread, as a run has (tracing/session_config.py)."""
    from tracing.session_config import INTER_OP_THREADS, intra_op_threads
    if threads is None or isinstance(threads, int):
        return intra_op_threads(threads), INTER_OP_THREADS
    intra, inter = threads
    return int(intra), int(inter)


def session_config(threads=None):
    """A run's thread settings for every session (and for Keras in versus_keras)."""
    from tracing.session_config import session_config as run_config
    intra, inter = thread_counts(threads)
    return run_config(intra, inter)


def make_config(network, algorithm, batch_size=BATCH_SIZE, seed=0, segment_size=None, optimizer="momentum",
                learning_rate=0.01, data_size=1000, feedback="stored", checkpoint_plan=None, settings=None):
    """settings: more network-dict keys (a rule's own, e.g. FGRAD's fgrad_samples)."""
    return validate({**(settings or {}), "name": network.name, "type": algorithm, "dataset_name": "synthetic",
                     "sequence": network.family, "batch_size": batch_size, "seed": seed,
                     "optimizer": optimizer, "learning_rate": learning_rate, "segment_size": segment_size,
                     "synthetic_shape": list(network.input_shape), "synthetic_classes": network.classes,
                     "synthetic_size": max(data_size, batch_size), "feedback": feedback,
                     "checkpoint_plan": checkpoint_plan})


class Bench:
    """One (network, type) training graph in its own session, ready to step."""

    def __init__(self, network, algorithm, threads=None, algorithm_class=None, **config_overrides):
        """algorithm_class: a variant of the type's class to build instead (a benchmark's what-if)."""
        import tensorflow as tf

        from training.algorithms import get_algorithm
        from training.blocks import split_into_blocks
        from training.graph import without_autotune
        from training.losses import COST_FUNCTIONS
        from training.optimizers import make_optimizer

        self.network, self.algorithm = network, algorithm
        self.config = config = make_config(network, algorithm, **config_overrides)
        data = synthetic(network.input_shape, network.classes, config.synthetic_size, seed=config.seed)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.set_random_seed(config.seed)
            with tf.name_scope("input"):
                features_in = tf.compat.v1.placeholder(tf.float32, [None, *network.input_shape], name="features")
                labels_in = tf.compat.v1.placeholder(tf.int64, [None], name="labels")
                dataset = without_autotune(tf.data.Dataset.from_tensor_slices((features_in, labels_in))
                                           .shuffle(len(data.x_train), seed=config.seed)
                                           .batch(config.batch_size, drop_remainder=True).repeat())
                iterator = tf.compat.v1.data.make_initializable_iterator(dataset)
                features, labels = iterator.get_next(name="next_batch")
                one_hot = tf.one_hot(labels, network.classes)
            self.blocks = split_into_blocks(network.layers())
            loss_fn = COST_FUNCTIONS[config.cost_function]
            built = algorithm_class(config) if algorithm_class else get_algorithm(config)
            self.step = built.build(self.blocks, features, one_hot, loss_fn, lambda: make_optimizer(config))
            init = tf.compat.v1.global_variables_initializer()
        self.fetches = [self.step.train_op, self.step.loss]
        self.session = tf.compat.v1.Session(graph=self.graph, config=session_config(threads))
        self.session.run(init)
        self.session.run(iterator.initializer, {features_in: data.x_train, labels_in: data.y_train})

    def run(self, steps=1):
        """Run `steps` training steps; returns the wall time of each in seconds."""
        return timed_runs(self.session, self.fetches, steps)

    def trace(self, report_dir=None):
        """Transient peak bytes of one traced step (busiest device); a full report if asked."""
        import tracing
        from tracing.timeline import busiest_device, peak_bytes, split_by_device, timeline_points

        result = tracing.trace(self.session, self.fetches)
        if report_dir:
            tracing.write_memory_report(result.records, report_dir, graph=self.graph, node_stats=result.node_stats,
                                        meta={"network": self.network.name, "algorithm": self.algorithm},
                                        persistent_bytes=self.persistent_bytes())
        points = {device: timeline_points(records, 0) for device, records in split_by_device(result.records).items()}
        return peak_bytes(points[busiest_device(points)]) if points else 0

    def flop_ratio(self):
        """The FLOPs of this type's step over BP's on this network (planning's layer rules)."""
        from planning.model import MemoryModel
        from training.preflight import checkpoint_plan
        model = MemoryModel(self.blocks, self.network.input_shape, self.network.classes, optimizer=self.config.optimizer,
                            feedback=self.config.feedback, segment_size=self.step_segment_size(), global_step=False,
                            checkpoint_plan=checkpoint_plan(self.config, len(self.blocks)),
                            fgrad_perturbation=self.config.fgrad_perturbation, fgrad_samples=self.config.fgrad_samples,
                            mezo_samples=self.config.mezo_samples)
        return model.flop_ratio(self.algorithm)

    def step_segment_size(self):
        """BPCKPT's blocks per segment in this graph; None for the other types."""
        if self.algorithm != "BPCKPT":
            return None
        from planning.segments import default_segment_size
        return self.config.segment_size or default_segment_size(len(self.blocks))

    def persistent_bytes(self):
        import tracing
        return tracing.persistent_bytes(self.graph)

    def close(self):
        self.session.close()


def dfamem_lower_bound(blocks, batch_size, count_network_input=False):
    """max over blocks of (block input + block output + weight update) bytes, from the shapes.

    DFAMEM cannot do better: while a block's update is computed, its input (to recompute and
    to form the update), its output (where the error arrives) and the update itself must exist.
    The network input (block 0's input) is allocated by tf.data before the step, outside the
    traced step's records; it counts 0 by default, so that the bound compares with the traced
    transient peak. count_network_input=True counts it, as the definition reads literally.
    """
    def tensor_bytes(shape):
        return batch_size * int(np.prod(shape[1:])) * 4

    def block_bytes(block):
        inputs = tensor_bytes(block.layers[0].input_shape) if count_network_input or block.index > 0 else 0
        return inputs + tensor_bytes(block.layers[-1].output_shape) + \
            sum(v.shape.num_elements() * v.dtype.size for v in block.variables)

    return max(block_bytes(block) for block in blocks)


def timed_runs(session, fetches, steps):
    """[seconds] of `steps` runs of `fetches`, one after the other."""
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        session.run(fetches)
        times.append(time.perf_counter() - started)
    return times


def median_ms(times):
    return 1000.0 * statistics.median(times)


def interleaved_step_times(benches, steps, warmup=5, rounds=None, faults=None):
    """{key: [seconds per step]}: warm up each bench, then time them in turns.

    Taking turns (a few steps of each, round after round) spreads any load the machine has at
    the moment over every type alike, so the ratios between them stay meaningful. faults: a
    dict that receives {key: minor page faults of the process during that key's timed steps}.
    """
    for bench in benches.values():
        bench.run(warmup)
    rounds = rounds or max(1, min(steps, 6))
    per_round = [steps // rounds + (1 if r < steps % rounds else 0) for r in range(rounds)]
    times = {key: [] for key in benches}
    if faults is not None:
        faults.update(dict.fromkeys(benches, 0))
    for count in per_round:
        for key, bench in benches.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            times[key] += bench.run(count)
            if faults is not None:
                faults[key] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return times


def times_and_peaks(benches, steps, warmup=10, rounds=10):
    """({key: [seconds per step]} timed in turns, {key: traced transient peak in MiB}); closes the benches."""
    try:
        times = interleaved_step_times(benches, steps, warmup=warmup, rounds=rounds)
        return times, {key: bench.trace() / MIB for key, bench in benches.items()}
    finally:
        for bench in benches.values():
            bench.close()


# -- tables ------------------------------------------------------------------------------
def write_csv(path, columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
    _write(path, buffer.getvalue())


def read_rows(path, types):
    """The rows of a CSV that write_csv wrote, typed again: `types` maps a column to int or float;
    an empty cell is None. [] when there is no file (a resumable benchmark's first run)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        return [{key: (types[key](value) if key in types else value) if value != "" else None
                 for key, value in row.items()} for row in csv.DictReader(handle)]


def markdown_table(columns, rows, headers=None):
    headers = headers or {}
    lines = ["| " + " | ".join(headers.get(c, c) for c in columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(path, title, table, notes=""):
    _write(path, f"# {title}\n\n{table}" + (f"\n{notes.strip()}\n" if notes else ""))


def targets_markdown(checks):
    """A table of (target, measured, limit, met) rows; empty when there is nothing to check."""
    if not checks:
        return ""
    lines = ["| target | measured | limit | met |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {_cell(value)} | <= {limit:g} | {'met' if met else '**missed**'} |"
              for name, value, limit, met in checks]
    return "\n".join(lines) + "\n"


def plain_log_axis(axis):
    """Ticks at 1, 2, 5 x 10^k labelled as plain numbers on a log-scaled matplotlib axis."""
    import matplotlib.ticker as ticker
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return "" if value is None else str(value)


def write_text(path, text):
    _write(path, text)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, text)


def result_path(name, extension, out_dir=None):
    return os.path.join(out_dir or RESULTS_DIR, f"{name}.{extension}")


def argument_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes and few steps (a smoke run)")
    parser.add_argument("--out", default=None, help=f"directory for the results (default {RESULTS_DIR})")
    parser.add_argument("--threads", type=_threads, default=None, metavar="N|INTRA,INTER",
                        help="intra-op threads of every session, or both counts (default: one intra-op thread per "
                             "core, every op in the caller's thread, as a run has)")
    return parser


def _threads(text):
    parts = [int(part) for part in text.split(",")]
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected N or INTRA,INTER with positive integers, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


def threads_argv(threads):
    """A child process's --threads argument for `threads` ([] for the default): _threads' inverse."""
    if not threads:
        return []
    return [f"--threads={','.join(map(str, threads)) if isinstance(threads, tuple) else threads}"]


def threads_from_argv(argv):
    """The threads a child process was given by threads_argv, or None."""
    text = next((a.split("=", 1)[1] for a in argv if a.startswith("--threads=")), None)
    return _threads(text) if text else None


def json_from_child(argv, env=None, what=""):
    """Run a benchmark's child process; its last line of output, parsed. A failed child is a
    RuntimeError with the end of its stderr."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed{what}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pivot(rows, cell, bp_extra=None, keys=("network",)):
    """One row per value of `keys` (the network; with its kernels where rows of several kernel
    families sit together) and one column per type, `cell(row)` in each; `bp_extra` names a
    field of BP's row copied into a last column (e.g. its persistent memory)."""
    types = list(dict.fromkeys(r["type"] for r in rows))
    table = []
    for key in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        row = dict(zip(keys, key))
        for r in rows:
            if tuple(r[k] for k in keys) == key:
                row[r["type"]] = cell(r)
                if bp_extra and r["type"] == "BP":
                    row[bp_extra[0]] = r[bp_extra[1]]
        table.append(row)
    return list(keys) + types + ([bp_extra[0]] if bp_extra and "BP" in types else []), table


def keep_other_families(rows, old_rows):
    """`old_rows` of other kernel families than `rows`', then `rows`: a benchmark run once per
    family with --append keeps the other family's rows."""
    if not rows:
        return old_rows
    return [row for row in old_rows if row.get("kernels") != rows[0]["kernels"]] + rows


def replace_rows(old_rows, rows, keys=("kernels", "network")):
    """`old_rows` with those of each (kernel family, network) in `rows` replaced by `rows`' own, in
    the old order (new pairs last): a benchmark rerun on some networks keeps the others' rows."""
    def key(row):
        return tuple(row.get(k) for k in keys)
    fresh = {}
    for row in rows:
        fresh.setdefault(key(row), []).append(row)
    merged, placed = [], set()
    for row in old_rows:
        if key(row) not in fresh:
            merged.append(row)
        elif key(row) not in placed:
            merged += fresh[key(row)]
            placed.add(key(row))
    return merged + [row for row in rows if key(row) not in placed]


def write_results(name, columns, rows, title, table, notes, out_dir=None, log=print):
    """results/<name>.csv (the rows) and <name>.md (the table and notes); the table to the log."""
    write_csv(result_path(name, "csv", out_dir), columns, rows)
    write_markdown(result_path(name, "md", out_dir), title, table, notes)
    log(table)


def regenerate_per_family(name):
    """The notes' last line for a benchmark run once per kernel family (main_per_kernel_family).
    Both switches are written out: TensorFlow's default is oneDNN only on CPUs with AVX-512 or AMX."""
    return (f"Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.{name}`, then "
            f"`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.{name} --append`.")


def main_per_kernel_family(argv, doc, name, numeric_columns, measure_rows, report):
    """A benchmark's command line when it runs once per kernel family: the common options and
    --append; measure_rows(args) -> rows, then report(rows, out_dir) with, under --append, the
    CSV's rows of the other family first (`numeric_columns` read back as floats)."""
    parser = argument_parser(doc.splitlines()[0])
    parser.add_argument("--append", action="store_true", help="keep the CSV's rows of other kernel families")
    args = parser.parse_args(argv)
    quiet_tensorflow()
    rows = measure_rows(args)
    if args.append:
        old = read_rows(result_path(name, "csv", args.out), {column: float for column in numeric_columns})
        rows = keep_other_families(rows, old)
    report(rows, args.out)


def machine_line():
    """Where results were measured: the CPU, TensorFlow's version and its kernel switch."""
    from training.kernels import ONEDNN_SWITCH, cpu_model, kernel_family, onednn_switch
    family = kernel_family()
    return (f"measured on {cpu_model()}, {os.cpu_count()} cores, TensorFlow {family.tensorflow}, "
            f"{ONEDNN_SWITCH}={onednn_switch() or 'unset'}")
