"""Traced transient peak and persistent bytes of every type as the network gets deeper.

    python -m benchmarks.memory_vs_depth [--quick] [--append]

long_fc MLPs of 5, 10, 20 and 30 blocks of width 500 and long_conv at 10 and 20 blocks, batch
100. Each (network, type) runs a few warm-up steps, then three traced steps; the peak is their
median (the executor's order, hence the peak, can vary a little between steps). Run once per
kernel family (`TF_ENABLE_ONEDNN_OPTS=1`, then `=0 ... --append`, which keeps the other family's
rows). Writes results/memory_vs_depth.{csv,md,png}.
"""
import statistics

from benchmarks import common

COLUMNS = ["network", "kernels", "type", "blocks", "segment_size", "peak_bytes", "persistent_bytes", "peak_mib",
           "persistent_mib", "ratio_to_bp", "lower_bound_bytes", "ratio_to_lower_bound"]
NAME = "memory_vs_depth"


def networks(quick=False):
    if quick:
        return [common.mlp(3, width=16), common.mlp(5, width=16), common.conv(3, filters=4)]
    return [common.mlp(5), common.mlp(10), common.mlp(20), common.mlp(30), common.conv(10), common.conv(20)]


def measure(nets, types=common.TYPES, warmup=3, traces=3, batch_size=common.BATCH_SIZE, threads=None, log=print):
    """One row per (network, type)."""
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network in nets:
        network_rows = []
        for algorithm in types:
            bench = common.Bench(network, algorithm, threads=threads, batch_size=batch_size)
            try:
                bench.run(warmup)
                peak = int(statistics.median(bench.trace() for _ in range(traces)))
                bound = common.dfamem_lower_bound(bench.blocks, batch_size)
                row = {"network": network.name, "kernels": library, "type": algorithm, "blocks": network.blocks,
                       "segment_size": bench.step_segment_size(), "peak_bytes": peak,
                       "persistent_bytes": bench.persistent_bytes(), "lower_bound_bytes": bound}
            finally:
                bench.close()
            network_rows.append(row)
            log(f"{network.name:>14} {library:>6} {algorithm:>7}: peak {peak / common.MIB:8.2f} MiB")
        bp = next((r["peak_bytes"] for r in network_rows if r["type"] == "BP"), None)
        for row in network_rows:
            row["peak_mib"] = row["peak_bytes"] / common.MIB
            row["persistent_mib"] = row["persistent_bytes"] / common.MIB
            row["ratio_to_bp"] = row["peak_bytes"] / bp if bp else None
            # The bound is DFAMEM's (one block at a time); other types are not held to it.
            if row["type"] == "DFAMEM":
                row["ratio_to_lower_bound"] = row["peak_bytes"] / row["lower_bound_bytes"]
            else:
                row["ratio_to_lower_bound"] = row["lower_bound_bytes"] = None
        rows += network_rows
    return rows


def targets(rows):
    """[(target, measured value, limit, met)] from the deepest and shallowest MLPs, per kernel family."""
    checks = []
    for family in dict.fromkeys(r.get("kernels") for r in rows):
        checks += _family_targets([r for r in rows if r.get("kernels") == family], family)
    return checks


def _family_targets(rows, family):
    mlps = sorted({r["blocks"] for r in rows if r["network"].startswith("long_fc")})
    if len(mlps) < 2:
        return []
    shallow, deep = mlps[0], mlps[-1]

    def peak(algorithm, blocks):
        return next(r for r in rows if r["type"] == algorithm and r["blocks"] == blocks
                    and r["network"].startswith("long_fc"))

    where = f", {family}" if family else ""
    checks = []
    if any(r["type"] == "DFAMEM" for r in rows):
        flat = peak("DFAMEM", deep)["peak_bytes"] / peak("DFAMEM", shallow)["peak_bytes"]
        checks.append((f"DFAMEM peak({deep} blocks) / peak({shallow} blocks){where}", flat, 1.10))
        checks.append((f"DFAMEM peak / BP peak at {deep} blocks{where}", peak("DFAMEM", deep)["ratio_to_bp"], 0.20))
        checks.append((f"DFAMEM peak / lower bound at {deep} blocks{where}",
                       peak("DFAMEM", deep)["ratio_to_lower_bound"], 1.25))
    if any(r["type"] == "BPCKPT" for r in rows):
        checks.append((f"BPCKPT peak / BP peak at {deep} blocks{where}", peak("BPCKPT", deep)["ratio_to_bp"], 0.40))
    return [(name, value, limit, value <= limit) for name, value, limit in checks]


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = [f for f in ("long_fc", "long_conv") if any(r["network"].startswith(f + "_") for r in rows)]
    kernels = list(dict.fromkeys(r.get("kernels") for r in rows))
    figure, axes = plt.subplots(len(kernels), len(families), figsize=(5.2 * len(families), 3.8 * len(kernels)),
                                squeeze=False)
    for axes_row, library in zip(axes, kernels):
        for axis, family in zip(axes_row, families):
            for algorithm in dict.fromkeys(r["type"] for r in rows):
                points = sorted((r["blocks"], r["peak_mib"]) for r in rows if r["type"] == algorithm
                                and r.get("kernels") == library and r["network"].startswith(family + "_"))
                axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=algorithm)
            axis.set_title(f"{family}, batch {common.BATCH_SIZE}" + (f", {library}" if library else ""))
            axis.set_xlabel("blocks")
            axis.set_ylabel("transient peak of one step (MiB)")
            axis.set_yscale("log")
            common.plain_log_axis(axis.yaxis)
            axis.grid(alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    figure.suptitle("Memory of one training step against depth (traced)")
    figure.tight_layout(rect=(0, 0.07 / len(kernels), 1, 1))
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(rows, out_dir=None, log=print):
    columns, summary_rows = common.pivot(rows, lambda r: r["peak_mib"], bp_extra=("persistent", "persistent_mib"),
                                         keys=("network", "kernels"))
    summary = common.markdown_table(columns, summary_rows, {"persistent": "BP persistent"})
    table = common.markdown_table(COLUMNS[:5] + ["peak_mib", "persistent_mib", "ratio_to_bp", "ratio_to_lower_bound"],
                                  rows, {"peak_mib": "peak MiB", "persistent_mib": "persistent MiB",
                                         "ratio_to_bp": "peak / BP", "ratio_to_lower_bound": "peak / bound"})
    checks = targets(rows)
    notes = common.targets_markdown(checks) + """
Peak: the transient peak of one traced training step (the maximum of the running sum of its
allocation records, busiest device, median of three traced steps); persistent: the variables
(weights, optimizer slots, feedback matrices), which no step allocates. Bound (DFAMEM only):
max over blocks of (block input + block output + weight update) bytes, from the shapes. The
network input, block 0's input, is allocated by tf.data before the step and is not in the
step's records, so it counts 0 in the bound as it does in the peak. The bound leaves out the
error that DFAMEM must hold at the block's output while it forms the update (as large as the
output), and the buffers of TensorFlow's kernels: where weights dominate (long_fc) the peak is
close to the bound. On CPUs where TensorFlow runs its Eigen convolution kernels (oneDNN off, as
on CPUs without AVX-512), each convolution gradient holds an im2col buffer while it runs, sized
for a 30 MiB working set (TensorFlow's conv_grad_*_ops.cc), and two run side by side: on
long_conv those buffers, not the activations, set every type's peak. oneDNN's convolutions keep
no such buffer. """ + common.machine_line() + """.

Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.memory_vs_depth`, then
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.memory_vs_depth --append`.
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Memory against depth",
                          "Transient peak of one step, MiB:\n\n" + summary + "\nAll figures:\n\n" + table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir))
    log(table + "\n" + common.targets_markdown(checks))


def read_rows(path):
    return common.read_rows(path, {"blocks": int, "segment_size": int, "peak_bytes": int, "persistent_bytes": int,
                                   "peak_mib": float, "persistent_mib": float, "lower_bound_bytes": int,
                                   "ratio_to_bp": float, "ratio_to_lower_bound": float})


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/memory_vs_depth.csv of other kernel families (run once per family)")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    rows = measure(networks(args.quick), threads=args.threads)
    if args.append:
        rows = common.keep_other_families(rows, read_rows(common.result_path(NAME, "csv", args.out)))
    report(rows, args.out)


if __name__ == "__main__":
    main()
