"""Memory against batch size for resnet_152, predicted and measured (seed 004's batch analysis).

    python -m benchmarks.batch_analysis [--quick]

For every type and batch sizes 2, 4, 8 and 16 (CPU sizes) on 32x32x3 synthetic input: the
model's predicted total (transient peak + persistent) beside the traced one (median of three
traced steps after warm-up), under the kernel family this process runs (a `kernels` column; run
once with `TF_ENABLE_ONEDNN_OPTS=0` and once without for both CPU families). Writes
results/batch_analysis.{csv,md,png}.

Each row is written to the CSV as soon as it is measured, and a rerun measures only the rows
the CSV lacks for this family: resnet_152's graphs take a minute or more each to build on two
cores (about 40 minutes a family with oneDNN), so a run may span several sittings. `--fresh`
measures this family's rows again.
"""
import statistics

from benchmarks import common
from benchmarks.prediction import memory_model

NAME = "batch_analysis"
COLUMNS = ["network", "kernels", "type", "batch_size", "predicted_total_bytes", "measured_total_bytes", "predicted_peak_bytes",
           "measured_peak_bytes", "total_relative_error"]


def measure(network, batch_sizes, types=common.TYPES, warmup=2, traces=3, threads=None, log=print, done=(),
            on_row=None):
    """Rows for every (batch size, type) but those in `done`; on_row(rows so far) after each."""
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = list(done)
    measured = {(row["batch_size"], row["type"]) for row in rows if row["kernels"] == library}
    for batch_size in batch_sizes:
        for kind in types:
            if (batch_size, kind) in measured:
                continue
            bench = common.Bench(network, kind, threads=threads, batch_size=batch_size)
            try:
                prediction = memory_model(network, bench.blocks, "stored", threads).predict(kind, batch_size)
                bench.run(warmup)
                peak = int(statistics.median(bench.trace() for _ in range(traces)))
                persistent = bench.persistent_bytes()
            finally:
                bench.close()
            rows.append({"network": network.name, "kernels": library, "type": kind, "batch_size": batch_size,
                         "predicted_total_bytes": prediction.total_bytes, "measured_total_bytes": peak + persistent,
                         "predicted_peak_bytes": prediction.peak_bytes, "measured_peak_bytes": peak,
                         "total_relative_error": prediction.total_bytes / (peak + persistent) - 1})
            log(f"{network.name} {library} b{batch_size:<3} {kind:>7}: total {(peak + persistent) / common.MIB:8.1f} MiB, "
                f"predicted {rows[-1]['total_relative_error']:+.3f}")
            if on_row is not None:
                on_row(rows)
    return rows


def measured_rows(path, network_name):
    """The rows of an earlier run of the same network, typed as measure() makes them. Rows written
    before the kernels column (Eigen, with hand-written kernel rules) are measured again."""
    types = ({column: int for column in COLUMNS if column not in ("network", "kernels", "type")}
             | {"total_relative_error": float})
    return [row for row in common.read_rows(path, types) if row["network"] == network_name and row.get("kernels")]


def plot(rows, path, title):
    """One panel per kernel family: each type's measured and predicted total against batch size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = list(dict.fromkeys(row["kernels"] for row in rows))
    figure, axes = plt.subplots(1, len(families), figsize=(6.4 * len(families), 4.4), squeeze=False)
    for axis, family in zip(axes[0], families):
        mine_rows = [row for row in rows if row["kernels"] == family]
        for index, kind in enumerate(dict.fromkeys(row["type"] for row in mine_rows)):
            mine = sorted((row["batch_size"], row["measured_total_bytes"] / common.MIB, row["predicted_total_bytes"] /
                           common.MIB) for row in mine_rows if row["type"] == kind)
            color = f"C{index}"
            axis.plot([m[0] for m in mine], [m[1] for m in mine], marker="o", color=color, label=f"{kind} measured")
            axis.plot([m[0] for m in mine], [m[2] for m in mine], linestyle="--", marker="x", color=color,
                      label=f"{kind} predicted")
        axis.set_xscale("log", base=2)
        axis.set_xlabel("batch size")
        axis.set_ylabel("transient peak + persistent (MiB)")
        axis.set_title(f"{title} ({family})")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(rows, out_dir=None, log=print):
    """Per kernel family: measured / predicted totals by batch and type, and each type's errors."""
    types = list(dict.fromkeys(r["type"] for r in rows))
    cells, errors_by_type = [], []
    for family in dict.fromkeys(row["kernels"] for row in rows):
        mine = [row for row in rows if row["kernels"] == family]
        for batch in sorted({r["batch_size"] for r in mine}):
            cell = dict({kind: "" for kind in types}, kernels=family, batch=batch)
            for r in mine:
                if r["batch_size"] == batch:
                    cell[r["type"]] = (f"{r['measured_total_bytes'] / common.MIB:.1f} / "
                                       f"{r['predicted_total_bytes'] / common.MIB:.1f}")
            cells.append(cell)
        for kind in types + ["all"]:
            errors = [abs(r["total_relative_error"]) for r in mine if kind in ("all", r["type"])]
            if errors:
                errors_by_type.append({"kernels": family, "type": kind, "median": statistics.median(errors),
                                       "largest": max(errors)})
    table = common.markdown_table(["kernels", "batch"] + types, cells)
    error_table = common.markdown_table(["kernels", "type", "median", "largest"], errors_by_type,
                                        {"median": "total: median absolute relative error",
                                         "largest": "total: largest absolute relative error"})
    notes = f"""Cells: measured / predicted total MiB (transient peak + persistent), each kernel family's
blocks measured by that family (the `kernels` column). Per type, the absolute relative error of the
predicted total:

{error_table}
{rows[0]['network']} on 32x32x3 synthetic input, momentum SGD, two intra-op threads; {common.machine_line()}
(the row's family is its `kernels` column: run once per family, `TF_ENABLE_ONEDNN_OPTS=0` for Eigen).

![batch analysis]({NAME}.png)

Regenerate: `python -m benchmarks.batch_analysis` under each family (each keeps the other's rows).
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), f"Memory against batch size: {rows[0]['network']}",
                          table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir), f"{rows[0]['network']}: one training step")
    log(table + notes)


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="measure every row again")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the CSV, measuring nothing")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    if args.quick:
        network, batch_sizes, types = common.named("resnet_18", (16, 16, 3)), (2, 4), ("BP", "DFAMEM")
    else:
        network, batch_sizes, types = common.named("resnet_152"), (2, 4, 8, 16), common.TYPES
    path = common.result_path(NAME, "csv", args.out)
    from training.kernels import kernel_family
    done = measured_rows(path, network.name)
    if args.fresh:
        done = [row for row in done if row["kernels"] != kernel_family().library]
    if args.report_only:
        report(done, args.out)
        return
    rows = measure(network, batch_sizes, types, threads=args.threads, done=done,
                   on_row=lambda rows: common.write_csv(path, COLUMNS, rows))
    report(rows, args.out)


if __name__ == "__main__":
    main()
