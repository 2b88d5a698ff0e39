"""Each type as a point (median step time, traced transient peak) on one network.

    python -m benchmarks.time_x_memory [--quick] [--network long_fc_30] [--append]

The seed paper's figure: where each algorithm sits on the time-memory plane. Time and memory
come from the same sessions, side by side: the types take turns for the timed steps (see
step_time), then each traces three steps (median peak). The types that no other type beats
on both axes form the frontier, drawn as a line, one plane per kernel family (run with
`TF_ENABLE_ONEDNN_OPTS=1`, then `=0 ... --append`). Writes results/time_x_memory.{csv,md,png}.
"""
import statistics

from benchmarks import common

COLUMNS = ["network", "kernels", "type", "median_step_ms", "peak_bytes", "peak_mib", "persistent_bytes", "time_ratio_to_bp",
           "peak_ratio_to_bp", "on_frontier"]
NAME = "time_x_memory"


def network_by_name(name):
    family, _, blocks = name.rpartition("_")
    if family == "long_fc":
        return common.mlp(int(blocks))
    if family == "long_conv":
        return common.conv(int(blocks))
    raise SystemExit(f"unknown network {name!r}: use long_fc_<blocks> or long_conv_<blocks>")


def measure(network, types=common.TYPES, steps=30, warmup=5, traces=3, batch_size=common.BATCH_SIZE,
            threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    benches = {algorithm: common.Bench(network, algorithm, threads=threads, batch_size=batch_size)
               for algorithm in types}
    try:
        times = common.interleaved_step_times(benches, steps, warmup=warmup)
        peaks = {algorithm: int(statistics.median(bench.trace() for _ in range(traces)))
                 for algorithm, bench in benches.items()}
        persistent = {algorithm: bench.persistent_bytes() for algorithm, bench in benches.items()}
    finally:
        for bench in benches.values():
            bench.close()
    medians = {algorithm: common.median_ms(times[algorithm]) for algorithm in types}
    rows = []
    for algorithm in types:
        rows.append({"network": network.name, "kernels": library, "type": algorithm, "median_step_ms": medians[algorithm],
                     "peak_bytes": peaks[algorithm], "peak_mib": peaks[algorithm] / common.MIB,
                     "persistent_bytes": persistent[algorithm],
                     "time_ratio_to_bp": medians[algorithm] / medians["BP"] if "BP" in medians else None,
                     "peak_ratio_to_bp": peaks[algorithm] / peaks["BP"] if "BP" in peaks else None})
        log(f"{network.name:>14} {library:>6} {algorithm:>7}: {medians[algorithm]:8.2f} ms, "
            f"{peaks[algorithm] / common.MIB:8.2f} MiB")
    return mark_frontier(rows)


def mark_frontier(rows):
    """on_frontier = "no" where another row of the same kernels is at least as fast and as lean
    (and not equal)."""
    def point(row):
        return row["median_step_ms"], row["peak_bytes"]

    for row in rows:
        dominated = any(point(other) != point(row) and point(other)[0] <= point(row)[0]
                        and point(other)[1] <= point(row)[1]
                        for other in rows if other.get("kernels") == row.get("kernels"))
        row["on_frontier"] = "no" if dominated else "yes"
    return rows


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = list(dict.fromkeys(r.get("kernels") for r in rows)) or [None]
    figure, axes = plt.subplots(1, len(families), figsize=(6.4 * len(families), 4.4), squeeze=False)
    for axis, library in zip(axes[0], families):
        _plane(axis, [r for r in rows if r.get("kernels") == library], library)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _plane(axis, rows, library):
    for row in rows:
        axis.scatter(row["median_step_ms"], row["peak_mib"], s=46, zorder=3,
                     marker="o" if row["on_frontier"] == "yes" else "s")
        axis.annotate(row["type"], (row["median_step_ms"], row["peak_mib"]), textcoords="offset points",
                      xytext=(6, 4), fontsize=9)
    frontier = sorted((r["median_step_ms"], r["peak_mib"]) for r in rows if r["on_frontier"] == "yes")
    if len(frontier) > 1:
        axis.plot([p[0] for p in frontier], [p[1] for p in frontier], linestyle="--", color="grey",
                  label="frontier: no type is faster and leaner", zorder=2)
        axis.legend(fontsize=8, loc="lower right")
    network = rows[0]["network"] if rows else ""
    axis.set_title(f"One training step: {network}, batch {common.BATCH_SIZE}" + (f", {library}" if library else ""))
    axis.set_xlabel("median step time (ms)")
    axis.set_ylabel("transient peak of one step (MiB, traced)")
    axis.set_yscale("log")
    common.plain_log_axis(axis.yaxis)
    axis.margins(x=0.15, y=0.15)
    axis.set_xlim(left=0)
    axis.grid(alpha=0.3, which="both")


def report(rows, out_dir=None, log=print):
    columns = ["kernels", "type", "median_step_ms", "time_ratio_to_bp", "peak_mib", "peak_ratio_to_bp", "on_frontier"]
    table = common.markdown_table(columns, rows, {"median_step_ms": "step (ms)", "time_ratio_to_bp": "time / BP",
                                                  "peak_mib": "peak MiB", "peak_ratio_to_bp": "peak / BP",
                                                  "on_frontier": "on the frontier"})
    network = rows[0]["network"] if rows else ""
    notes = f"""Network: {network}, batch {common.BATCH_SIZE}, momentum SGD. Time: median step time over the timed
steps (the types take turns). Peak: the traced transient peak of one step (median of three).
A type is on the frontier when no other type of the same kernels is both at least as fast and
at least as lean. {common.machine_line()}.

![time x memory](time_x_memory.png)

Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.time_x_memory`, then
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.time_x_memory --append`.
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), f"Time x memory: {network}", table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir))
    log(table)


def read_rows(path):
    return common.read_rows(path, {"median_step_ms": float, "peak_bytes": int, "peak_mib": float,
                                   "persistent_bytes": int, "time_ratio_to_bp": float, "peak_ratio_to_bp": float})


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--network", default=None, help="long_fc_<blocks> or long_conv_<blocks> (default long_fc_30)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per type (default 30; 6 with --quick)")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/time_x_memory.csv of other kernel families (run once per family)")
    args = parser.parse_args(argv)
    network = network_by_name(args.network) if args.network else \
        (common.mlp(5, width=16) if args.quick else common.mlp(30))
    rows = measure(network, steps=args.steps or (6 if args.quick else 30), warmup=2 if args.quick else 5,
                   threads=args.threads)
    if args.append:
        rows = common.keep_other_families(rows, read_rows(common.result_path(NAME, "csv", args.out)))
    report(rows, args.out)


if __name__ == "__main__":
    main()
