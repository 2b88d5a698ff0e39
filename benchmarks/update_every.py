"""What `update_every` trades: FA's and DFA's step time against their traced peak, for groups of
1 to 6 blocks' updates applied together.

    python -m benchmarks.update_every [--quick] [--append]

For each network, BP and FA and DFA at every group size are built side by side and timed in turns
in one process (benchmarks.common.interleaved_step_times); one traced step gives each graph's
transient peak. long_fc at batch 100, momentum SGD, synthetic data. Writes
results/update_every.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ... --append`
keeps the other family's rows).
"""
from benchmarks import common

NAME = "update_every"
COLUMNS = ["network", "kernels", "type", "update_every", "median_ms", "ratio_to_bp", "peak_mib", "peak_over_bp"]
KINDS = ("FA", "DFA")
GROUPS = (1, 2, 3, 4, 6)


def networks(quick=False):
    return [common.mlp(3, width=16)] if quick else [common.mlp(20), common.mlp(30)]


def measure(nets, groups=GROUPS, steps=60, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network in nets:
        benches = {("BP", 1): common.Bench(network, "BP", threads=threads)}
        benches.update({(kind, every): common.Bench(network, kind, threads=threads, settings={"update_every": every})
                        for kind in KINDS for every in groups})
        times, peaks = common.times_and_peaks(benches, steps)
        bp_ms, bp_peak = common.median_ms(times["BP", 1]), peaks["BP", 1]
        for (kind, every), step in times.items():
            if kind == "BP":
                continue
            ms = common.median_ms(step)
            rows.append({"network": network.name, "kernels": library, "type": kind, "update_every": every,
                         "median_ms": ms, "ratio_to_bp": ms / bp_ms, "peak_mib": peaks[kind, every],
                         "peak_over_bp": peaks[kind, every] / bp_peak})
            log(f"{network.name:>12} {library:>6} {kind:>3} update_every {every}: {ms / bp_ms:.3f} x BP's time, "
                f"peak {peaks[kind, every]:.2f} MiB ({peaks[kind, every] / bp_peak:.3f} x BP's)")
    return rows


def report(rows, out_dir=None, log=print):
    for row in rows:  # read back from the CSV (--append) as floats
        row["update_every"] = int(row["update_every"])
    table = common.markdown_table(COLUMNS, rows, {"median_ms": "median (ms)", "ratio_to_bp": "time / BP",
                                                  "peak_mib": "peak MiB", "peak_over_bp": "peak / BP"})
    notes = f"""Median step time of BP and of FA and DFA with `update_every` k (the updates of k consecutive
blocks applied together once the last has its gradients), timed in turns, and one traced step's
transient peak, both over BP's. long_fc at batch {common.BATCH_SIZE}, momentum SGD, synthetic data.
{common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "update_every: time against memory", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        networks(args.quick), groups=(1, 2) if args.quick else GROUPS, steps=6 if args.quick else 60,
        threads=args.threads), report)


if __name__ == "__main__":
    main()
