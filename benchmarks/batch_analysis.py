"""Memory against batch size for resnet_152, predicted and measured (seed 004's batch analysis).

    python -m benchmarks.batch_analysis [--quick]

For every type and batch sizes 2, 4, 8 and 16 (CPU sizes) on 32x32x3 synthetic input: the
model's predicted total (transient peak + persistent) beside the traced one (median of three
traced steps after warm-up). Writes results/batch_analysis.{csv,md,png}.

Each row is written to the CSV as soon as it is measured, and a rerun measures only the rows
the CSV lacks: resnet_152's graphs take minutes each to build on two cores, so the whole run
(about three hours there) may span several sittings. `--fresh` starts over.
"""
import statistics

from benchmarks import common
from benchmarks.prediction import memory_model

NAME = "batch_analysis"
COLUMNS = ["network", "type", "batch_size", "predicted_total_bytes", "measured_total_bytes", "predicted_peak_bytes",
           "measured_peak_bytes", "total_relative_error"]


def measure(network, batch_sizes, types=common.TYPES, warmup=2, traces=3, threads=None, log=print, done=(),
            on_row=None):
    """Rows for every (batch size, type) but those in `done`; on_row(rows so far) after each."""
    rows = list(done)
    measured = {(row["batch_size"], row["type"]) for row in rows}
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
            rows.append({"network": network.name, "type": kind, "batch_size": batch_size,
                         "predicted_total_bytes": prediction.total_bytes, "measured_total_bytes": peak + persistent,
                         "predicted_peak_bytes": prediction.peak_bytes, "measured_peak_bytes": peak,
                         "total_relative_error": prediction.total_bytes / (peak + persistent) - 1})
            log(f"{network.name} b{batch_size:<3} {kind:>7}: total {(peak + persistent) / common.MIB:8.1f} MiB, "
                f"predicted {rows[-1]['total_relative_error']:+.3f}")
            if on_row is not None:
                on_row(rows)
    return rows


def measured_rows(path, network_name):
    """The rows of an earlier run of the same network, typed as measure() makes them."""
    types = {column: int for column in COLUMNS if column not in ("network", "type")} | {"total_relative_error": float}
    return [row for row in common.read_rows(path, types) if row["network"] == network_name]


def plot(rows, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 4.4))
    for index, kind in enumerate(dict.fromkeys(row["type"] for row in rows)):
        mine = sorted((row["batch_size"], row["measured_total_bytes"] / common.MIB, row["predicted_total_bytes"] /
                       common.MIB) for row in rows if row["type"] == kind)
        color = f"C{index}"
        axis.plot([m[0] for m in mine], [m[1] for m in mine], marker="o", color=color, label=f"{kind} measured")
        axis.plot([m[0] for m in mine], [m[2] for m in mine], linestyle="--", marker="x", color=color,
                  label=f"{kind} predicted")
    axis.set_xscale("log", base=2)
    axis.set_xlabel("batch size")
    axis.set_ylabel("transient peak + persistent (MiB)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(rows, out_dir=None, log=print):
    shown = [dict(row, predicted_total_mib=row["predicted_total_bytes"] / common.MIB,
                  measured_total_mib=row["measured_total_bytes"] / common.MIB) for row in rows]
    by_batch = [dict(row, network=f"batch {batch}") for row, batch in
                zip(_by_batch(shown), sorted({r["batch_size"] for r in rows}))]
    table = common.markdown_table(["network"] + list(dict.fromkeys(r["type"] for r in rows)), by_batch,
                                  {"network": "batch"})
    errors = [abs(row["total_relative_error"]) for row in rows]
    by_type = [{"type": kind, "median": statistics.median(abs(r["total_relative_error"]) for r in rows if r["type"] == kind),
                "largest": max(abs(r["total_relative_error"]) for r in rows if r["type"] == kind)}
               for kind in dict.fromkeys(r["type"] for r in rows)]
    by_type.append({"type": "all", "median": statistics.median(errors), "largest": max(errors)})
    error_table = common.markdown_table(["type", "median", "largest"], by_type,
                                        {"median": "total: median absolute relative error",
                                         "largest": "total: largest absolute relative error"})
    notes = f"""Cells: measured / predicted total MiB (transient peak + persistent). Largest absolute
relative error of the total: {max(errors):.3f}, median {statistics.median(errors):.3f}. Per type:

{error_table}
{rows[0]['network']} on 32x32x3 synthetic input, momentum SGD, two intra-op and inter-op threads.

![batch analysis]({NAME}.png)

Regenerate: `python -m benchmarks.batch_analysis`
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), f"Memory against batch size: {rows[0]['network']}",
                          table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir), f"{rows[0]['network']}: one training step")
    log(table + notes)


def _by_batch(shown):
    table = []
    for batch in sorted({r["batch_size"] for r in shown}):
        row = {}
        for r in shown:
            if r["batch_size"] == batch:
                row[r["type"]] = f"{r['measured_total_mib']:.1f} / {r['predicted_total_mib']:.1f}"
        table.append(row)
    return table


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
    done = [] if args.fresh else measured_rows(path, network.name)
    if args.report_only:
        report(done, args.out)
        return
    rows = measure(network, batch_sizes, types, threads=args.threads, done=done,
                   on_row=lambda rows: common.write_csv(path, COLUMNS, rows))
    report(rows, args.out)


if __name__ == "__main__":
    main()
