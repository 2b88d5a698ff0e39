"""The memory model against the tracer: predicted and measured memory of a zoo of networks.

    python -m benchmarks.prediction [--quick]

For each network, two batch sizes and every type (DFAMEM also with regenerated feedback): the
model's prediction (planning/, from shapes, no step run) beside the traced step (warm-up, then
the median of three traced steps), the transient peak and the total (peak + persistent), with
signed relative errors (predicted / measured - 1). Also writes the table of the original
architectures (measured peak and persistent per type at one batch size, ratio to BP).
Writes results/prediction.{csv,md} and results/architectures.md. `--predict-only` keeps the
measurements and predicts again (for changes to the model); `--types BPCKPT,...` traces those
types again and keeps the other rows (for a change to one algorithm's graph).
"""
import statistics

from benchmarks import common

NAME = "prediction"
COLUMNS = ["network", "kernels", "type", "feedback", "batch_size", "predicted_peak_bytes", "measured_peak_bytes",
           "predicted_persistent_bytes", "measured_persistent_bytes", "predicted_total_bytes", "measured_total_bytes",
           "peak_relative_error", "total_relative_error", "predict_ms"]
VARIANTS = [(kind, "stored") for kind in common.TYPES] + [("DFAMEM", "regenerate")]
ARCHITECTURES = ("liao_cifar_bn", "vgg_16", "resnet_18", "resnet_50")
# Rows written before the kernels column were all traced with TensorFlow's Eigen CPU kernels.
EARLIER_KERNELS = "Eigen"
# Targets of the issue: over every row, the median and the worst absolute relative error.
TARGETS = {"total": (0.02, 0.08), "peak": (0.05, 0.15)}


def zoo(quick=False):
    """[(network, batch sizes)]; the MLPs on their usual input, the rest on 32x32x3."""
    if quick:
        return [(common.mlp(3, width=32), (8, 16)), (common.conv(2, filters=4), (8,))]
    return [(common.mlp(5), (32, 100)), (common.mlp(30), (32, 100)), (common.conv(20), (32, 100)),
            (common.named("liao_cifar_bn"), (16, 64)), (common.named("vgg_16"), (16, 64)),
            (common.named("resnet_18"), (16, 64)), (common.named("resnet_50"), (8, 32))]


#: A rule's own settings that the memory model takes (the others change no tensor of the step).
MODEL_SETTINGS = ("fgrad_perturbation", "fgrad_samples", "mezo_samples")


def memory_model(network, blocks, feedback, threads=None, settings=None):
    """The model of a benchmark network: built blocks, the benchmarks' optimizer, no global step,
    the blocks' kernels measured here (as `experiment plan` does; cached between runs), on a
    batch the graph knows (the benchmarks' tf.data batches drop the remainder). settings: a
    rule's own (MODEL_SETTINGS)."""
    from planning.model import MemoryModel
    from training.measured_kernels import MeasuredKernels
    intra = common.thread_counts(threads)[0]
    own = {key: value for key, value in (settings or {}).items() if key in MODEL_SETTINGS}
    return MemoryModel(blocks, network.input_shape, network.classes, name=network.name, optimizer="momentum",
                       feedback=feedback, threads=intra, global_step=False,
                       kernels=MeasuredKernels(blocks, intra, static_batch=True), **own)


def repredict(rows, networks, threads=None):
    """The rows with their predictions made again by the current model, the measurements kept
    (`--predict-only`: the model changes in seconds, the traces take an hour). Only the rows of
    this process's kernel family: the others' kernels cannot be measured here."""
    import time

    import tensorflow as tf

    from training.blocks import forward_blocks, split_into_blocks
    from training.kernels import kernel_family
    library = kernel_family().library

    by_name = {network.name: network for network, _ in networks}
    models = {}
    for row in rows:
        if row["kernels"] != library or row["network"] not in by_name:
            continue
        network = by_name[row["network"]]
        key = (network.name, row["feedback"])
        started = time.perf_counter()
        if key not in models:
            blocks = split_into_blocks(network.layers())
            with tf.Graph().as_default():
                forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *network.input_shape]), False)
            models[key] = memory_model(network, blocks, row["feedback"], threads)
        prediction = models[key].predict(row["type"], int(row["batch_size"]))
        row.update(predicted_peak_bytes=prediction.peak_bytes, predicted_persistent_bytes=prediction.persistent_bytes,
                   predicted_total_bytes=prediction.total_bytes,
                   peak_relative_error=prediction.peak_bytes / row["measured_peak_bytes"] - 1,
                   total_relative_error=prediction.total_bytes / row["measured_total_bytes"] - 1,
                   predict_ms=1000 * (time.perf_counter() - started))
    return rows


def replace_rows(rows, fresh):
    """rows with each row of `fresh` in the place of the row it measures again (same network,
    kernel family, type, feedback and batch size)."""
    key = lambda row: (row["network"], row.get("kernels"), row["type"], row["feedback"],  # noqa: E731
                       int(row["batch_size"]))
    by_key = {key(row): row for row in fresh}
    return [by_key.get(key(row), row) for row in rows]


def read_rows(path):
    import csv
    numeric = [c for c in COLUMNS if c.endswith("_bytes") or c == "batch_size"]
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.setdefault("kernels", EARLIER_KERNELS)
        row.update({c: int(row[c]) for c in numeric})
        row.update({c: float(row[c]) for c in ("peak_relative_error", "total_relative_error", "predict_ms")})
    return rows


def measure(networks, variants=VARIANTS, warmup=2, traces=3, threads=None, log=print):
    import time

    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network, batch_sizes in networks:
        for batch_size in batch_sizes:
            for kind, feedback in variants:
                bench = common.Bench(network, kind, threads=threads, batch_size=batch_size, feedback=feedback)
                try:
                    started = time.perf_counter()
                    prediction = memory_model(network, bench.blocks, feedback, threads).predict(kind, batch_size)
                    predict_ms = 1000 * (time.perf_counter() - started)
                    bench.run(warmup)
                    peak = int(statistics.median(bench.trace() for _ in range(traces)))
                    persistent = bench.persistent_bytes()
                finally:
                    bench.close()
                total = peak + persistent
                rows.append({"network": network.name, "kernels": library, "type": kind, "feedback": feedback, "batch_size": batch_size,
                             "predicted_peak_bytes": prediction.peak_bytes, "measured_peak_bytes": peak,
                             "predicted_persistent_bytes": prediction.persistent_bytes,
                             "measured_persistent_bytes": persistent,
                             "predicted_total_bytes": prediction.total_bytes, "measured_total_bytes": total,
                             "peak_relative_error": prediction.peak_bytes / peak - 1 if peak else 0.0,
                             "total_relative_error": prediction.total_bytes / total - 1,
                             "predict_ms": predict_ms})
                row = rows[-1]
                log(f"{network.name:>14} b{batch_size:<4} {kind:>7}/{feedback[:5]}: peak {peak / common.MIB:8.2f} "
                    f"MiB predicted {row['peak_relative_error']:+.3f}, total {row['total_relative_error']:+.3f}")
    return rows


def targets(rows):
    checks = []
    for what, (median_limit, worst_limit) in TARGETS.items():
        errors = [abs(row[f"{what}_relative_error"]) for row in rows]
        if errors:
            checks.append((f"{what}: median of the absolute relative errors", statistics.median(errors), median_limit))
            checks.append((f"{what}: largest absolute relative error", max(errors), worst_limit))
    return [(name, value, limit, value <= limit) for name, value, limit in checks]


def architecture_rows(rows, names=ARCHITECTURES):
    """Measured peak and persistent of each original architecture and type at its first batch
    size, per kernel family (the ratios to BP are within one family)."""
    table = []
    for name in names:
        for family in sorted({row["kernels"] for row in rows}):
            mine = [row for row in rows if row["network"] == name and row["feedback"] == "stored"
                    and row["kernels"] == family]
            if not mine:
                continue
            batch = min(row["batch_size"] for row in mine)
            at_batch = [row for row in mine if row["batch_size"] == batch]
            bp = next(row for row in at_batch if row["type"] == "BP")
            for row in at_batch:
                table.append({"network": name, "kernels": family, "batch": batch, "type": row["type"],
                              "peak_mib": row["measured_peak_bytes"] / common.MIB,
                              "persistent_mib": row["measured_persistent_bytes"] / common.MIB,
                              "peak_to_bp": row["measured_peak_bytes"] / bp["measured_peak_bytes"],
                              "total_to_bp": row["measured_total_bytes"] / bp["measured_total_bytes"]})
    return table


def report(rows, out_dir=None, log=print):
    shown = [dict(row, predicted_peak_mib=row["predicted_peak_bytes"] / common.MIB,
                  measured_peak_mib=row["measured_peak_bytes"] / common.MIB,
                  predicted_total_mib=row["predicted_total_bytes"] / common.MIB,
                  measured_total_mib=row["measured_total_bytes"] / common.MIB) for row in rows]
    table = common.markdown_table(
        ["network", "kernels", "batch_size", "type", "feedback", "predicted_peak_mib", "measured_peak_mib", "peak_relative_error",
         "predicted_total_mib", "measured_total_mib", "total_relative_error"], shown,
        {"batch_size": "batch", "predicted_peak_mib": "peak predicted MiB", "measured_peak_mib": "peak measured MiB",
         "peak_relative_error": "peak error", "predicted_total_mib": "total predicted MiB",
         "measured_total_mib": "total measured MiB", "total_relative_error": "total error"})
    checks = targets(rows)
    families = sorted({row["kernels"] for row in rows})
    per_family = "".join(f"\n{family}:\n\n" + common.targets_markdown(targets([r for r in rows if r["kernels"] == family]))
                         for family in families) if len(families) > 1 else ""
    notes = common.targets_markdown(checks) + per_family + f"""
Errors are signed: predicted / measured - 1. Measured: the traced transient peak of one training
step (median of three traced steps after warm-up) and the persistent variables, in the
benchmarks' training graph (benchmarks/common.py). Predicted: planning.MemoryModel from the
layers' shapes, in {statistics.median(row['predict_ms'] for row in rows):.0f} ms per row (median). Momentum SGD,
synthetic data; the MLPs on 28x28x1, long_conv on 16x16x3, the rest on 32x32x3.
Kernels: the `kernels` column (TensorFlow's oneDNN or Eigen CPU kernels, or cuDNN); {common.machine_line()}.

Regenerate: `python -m benchmarks.prediction` (oneDNN where the CPU has it), then
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.prediction --append` (Eigen's rows beside them).
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "The memory model against the tracer",
                          table, notes)
    arch = architecture_rows(rows)
    if arch:
        arch_table = common.markdown_table(["network", "kernels", "batch", "type", "peak_mib", "persistent_mib", "peak_to_bp",
                                            "total_to_bp"], arch,
                                           {"peak_mib": "peak MiB", "persistent_mib": "persistent MiB",
                                            "peak_to_bp": "peak / BP", "total_to_bp": "total / BP"})
        common.write_markdown(common.result_path("architectures", "md", out_dir),
                              "The original architectures: measured memory of one step", arch_table,
                              "Measured as in prediction.md (median of three traced steps), at the smaller of the "
                              "two batch sizes; total = peak + persistent.\n\nRegenerate: "
                              "`python -m benchmarks.prediction`\n")
    log(table + "\n" + common.targets_markdown(checks))


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--predict-only", action="store_true",
                        help="keep the measurements of results/prediction.csv, predict again with the current model")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/prediction.csv of other kernel families (run once per family)")
    parser.add_argument("--networks", default=None, metavar="N1,N2",
                        help="only these networks of the zoo (their names in the table)")
    parser.add_argument("--types", default=None, metavar="T1,T2",
                        help="trace only these types again, keeping the other rows of results/prediction.csv")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    networks = zoo(args.quick)
    if args.networks:
        wanted = {name.strip() for name in args.networks.split(",") if name.strip()}
        networks = [(network, sizes) for network, sizes in networks if network.name in wanted]
    if args.predict_only:
        rows = repredict(read_rows(common.result_path(NAME, "csv", args.out)), networks, args.threads)
    elif args.types:
        kinds = {kind.strip().upper() for kind in args.types.split(",") if kind.strip()}
        fresh = measure(networks, [variant for variant in VARIANTS if variant[0] in kinds], threads=args.threads)
        rows = replace_rows(read_rows(common.result_path(NAME, "csv", args.out)), fresh)
    else:
        rows = measure(networks, threads=args.threads)
        if args.append:
            library = rows[0]["kernels"] if rows else None
            kept = [row for row in read_rows(common.result_path(NAME, "csv", args.out)) if row["kernels"] != library]
            rows = kept + rows
    report(rows, args.out)


if __name__ == "__main__":
    main()
