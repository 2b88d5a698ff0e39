"""What tf.data's autotuning cost a run's epochs: its start (re-initialising the shuffled input
iterator) and its steps, with the pipelines' autotuning on and off.

    python -m benchmarks.epoch_start [--quick] [--out DIR] [--append]

A run's pipelines are a shuffle and a batch, with autotuning off (training.graph.without_autotune).
Here the run's BP graph is built twice in one process, once with autotuning on (tf.data's default),
and the two take turns, an epoch each, on versus_keras's synthetic MNIST-shaped split, after one
epoch each of warm-up. Per variant: the median and the largest epoch start, how many starts took
over SLOW_MS, and the median epoch's steps. Run once per kernel family (`--append` keeps the
other family's rows). Writes results/epoch_start.{csv,md}.
"""
import statistics

from benchmarks import common, versus_keras

NAME = "epoch_start"
COLUMNS = ["network", "kernels", "autotune", "epochs", "median_start_ms", "max_start_ms", "slow_starts",
           "median_steps_s"]
#: an epoch start over this waited (one that does not takes a few milliseconds).
SLOW_MS = 50.0
NETWORKS = (("experiment_mnist_fc (3 x 800, relu)", "experiment_mnist_fc"), ("fcReLu (2 x 256, relu)", "fcReLu"))


def measure(networks=NETWORKS, data_size=3000, epochs=16, batch_size=common.BATCH_SIZE, threads=None, log=print):
    from definitions.datasets import synthetic
    from training.kernels import kernel_family
    library = kernel_family().library
    data = synthetic(versus_keras.INPUT_SHAPE, versus_keras.CLASSES, data_size, seed=0)
    rows = []
    for label, sequence in networks:
        variants = {tuned: versus_keras.OurTraining(sequence, data, batch_size, threads, autotune=tuned)
                    for tuned in (True, False)}
        starts, steps = {tuned: [] for tuned in variants}, {tuned: [] for tuned in variants}
        try:
            for variant in variants.values():
                variant.run_epoch()
            for _ in range(epochs):
                for tuned, variant in variants.items():
                    seconds = variant.run_epoch()
                    starts[tuned].append(variant.last_start_s * 1000)
                    steps[tuned].append(seconds - variant.last_start_s)
        finally:
            for variant in variants.values():
                variant.close()
        for tuned in variants:
            row = {"network": label, "kernels": library, "autotune": "on" if tuned else "off", "epochs": epochs,
                   "median_start_ms": statistics.median(starts[tuned]), "max_start_ms": max(starts[tuned]),
                   "slow_starts": sum(start > SLOW_MS for start in starts[tuned]),
                   "median_steps_s": statistics.median(steps[tuned])}
            rows.append(row)
            log(f"{label:>38} {library:>6} autotune {row['autotune']:>3}: start median {row['median_start_ms']:.1f} ms, "
                f"max {row['max_start_ms']:.1f} ms, {row['slow_starts']} of {epochs} over {SLOW_MS:.0f} ms; "
                f"steps {row['median_steps_s']:.3f} s/epoch")
    return rows


def report(rows, out_dir=None, log=print):
    table = common.markdown_table(
        COLUMNS, rows, {"autotune": "tf.data autotune", "median_start_ms": "epoch start, median (ms)",
                        "max_start_ms": "largest (ms)", "slow_starts": f"starts over {SLOW_MS:.0f} ms",
                        "median_steps_s": "steps (s/epoch, median)"})
    notes = (f"Autotune `off` is what runs do (training.graph.without_autotune). Both variants are the run's BP "
             f"graph (momentum SGD, batch {common.BATCH_SIZE}, a run's session settings) in one process, taking "
             f"turns an epoch each on a synthetic split of 3000 28x28x1 examples. {common.machine_line()}.\n\n"
             + common.regenerate_per_family(NAME) + "\n")
    common.write_results(NAME, COLUMNS, rows, "Epoch start with and without tf.data's autotuning", table, notes,
                         out_dir, log)


def main(argv=None):
    def measure_rows(args):
        return measure(NETWORKS[:1] if args.quick else NETWORKS, data_size=300 if args.quick else 3000,
                       epochs=2 if args.quick else 16, threads=args.threads)

    common.main_per_kernel_family(argv, __doc__, NAME, ["epochs", "median_start_ms", "max_start_ms", "slow_starts",
                                                         "median_steps_s"], measure_rows, report)


if __name__ == "__main__":
    main()
