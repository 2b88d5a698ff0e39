"""What FA's block-by-block updates cost and save: FA as it runs against FA applying every update
at the end, as BP does. Step time (BP's in the same process) and the traced peak.

    python -m benchmarks.update_order [--quick] [--append]

FA applies each block's update as soon as the block's gradients exist, during the backward pass
(training/algorithms/fa.py), so one block's weight gradients are alive at a time. On long_fc its
step is slower than BP's by more than its arithmetic, and per-op times of traced steps put the
difference in the momentum updates, interleaved with the backward products. This benchmark
measures the alternative, every update at the end (`FAAtEnd`, built here only): the three graphs
of each network are timed in turns in one process (benchmarks.common.interleaved_step_times).
Writes results/update_order.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ...
--append` keeps the other family's rows).
"""
from benchmarks import common
from training.algorithms import FA

NAME = "update_order"
COLUMNS = ["network", "kernels", "bp_ms", "fa_ms", "fa_at_end_ms", "fa_over_bp", "fa_at_end_over_bp", "bp_peak_mib",
           "fa_peak_mib", "fa_at_end_peak_mib"]


class FAAtEnd(FA):
    """FA's gradients in FA's order, every update applied once all exist (BP's apply_after_all)."""

    def backward_in_order(self, blocks, tensors, gradient, make_optimizer=None, need_input_gradient=False):
        first, pairs_by_block, _ = super().backward_in_order(blocks, tensors, gradient, None, need_input_gradient)
        pairs = [pair for pairs in reversed(pairs_by_block) for pair in pairs]
        return first, pairs_by_block, [self.apply_after_all(make_optimizer(), pairs, [])]


def networks(quick=False):
    return [common.mlp(2, width=16)] if quick else [common.mlp(20), common.mlp(30)]


def measure(nets, steps=60, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network in nets:
        benches = {"bp": common.Bench(network, "BP", threads=threads),
                   "fa": common.Bench(network, "FA", threads=threads),
                   "fa_at_end": common.Bench(network, "FA", threads=threads, algorithm_class=FAAtEnd)}
        try:
            times = common.interleaved_step_times(benches, steps, warmup=10, rounds=10)
            peaks = {key: bench.trace() / common.MIB for key, bench in benches.items()}
        finally:
            for bench in benches.values():
                bench.close()
        ms = {key: common.median_ms(times[key]) for key in benches}
        rows.append({"network": network.name, "kernels": library, "bp_ms": ms["bp"], "fa_ms": ms["fa"],
                     "fa_at_end_ms": ms["fa_at_end"], "fa_over_bp": ms["fa"] / ms["bp"],
                     "fa_at_end_over_bp": ms["fa_at_end"] / ms["bp"], "bp_peak_mib": peaks["bp"],
                     "fa_peak_mib": peaks["fa"], "fa_at_end_peak_mib": peaks["fa_at_end"]})
        log(f"{network.name:>12} {library:>6}: FA / BP {ms['fa'] / ms['bp']:.3f}, at the end "
            f"{ms['fa_at_end'] / ms['bp']:.3f}; peaks {peaks['fa']:.1f} / {peaks['fa_at_end']:.1f} MiB")
    return rows


def report(rows, out_dir=None, log=print):
    table = common.markdown_table(COLUMNS, rows, {
        "bp_ms": "BP (ms)", "fa_ms": "FA (ms)", "fa_at_end_ms": "FA, updates at the end (ms)", "fa_over_bp": "FA / BP",
        "fa_at_end_over_bp": "at the end / BP", "bp_peak_mib": "BP peak MiB", "fa_peak_mib": "FA peak MiB",
        "fa_at_end_peak_mib": "at the end, peak MiB"})
    notes = f"""Median step time of three graphs timed in turns (BP; FA as it runs, each block's update applied
during the backward; FA with every update applied at the end) and one traced step's transient
peak. long_fc at batch {common.BATCH_SIZE}, momentum SGD, synthetic data. {common.machine_line()}.

Regenerate: `python -m benchmarks.update_order`, then `TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.update_order --append`.
"""
    common.write_results(NAME, COLUMNS, rows, "FA's updates: during the backward or at the end", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[2:], lambda args: measure(
        networks(args.quick), steps=6 if args.quick else 60, threads=args.threads), report)


if __name__ == "__main__":
    main()
