"""What block-by-block updates cost and save: FA and DFA as they run against the same rule applying
every update at the end, as BP does. Step time (BP's in the same process) and the traced peak.

    python -m benchmarks.update_order [--quick] [--append]

FA and DFA apply each block's update as soon as the block's gradients exist, during the backward
pass (training/algorithms/fa.py, dfa.py), so one block's weight gradients are alive at a time. On
long_fc their steps are slower than their arithmetic implies, and per-op times of traced steps
put much of the difference in the momentum updates, interleaved with the backward products. This
benchmark measures the alternatives, two blocks' updates together (the config key `update_every: 2`)
and every update at the end (`FAAtEnd`, `DFAAtEnd`, built here only): BP and the variants of a rule
are timed in turns in one process (benchmarks.common.interleaved_step_times).
Writes results/update_order.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ...
--append` keeps the other family's rows).
"""
from benchmarks import common
from training.algorithms import DFA, FA
from training.algorithms.base import Step

NAME = "update_order"
COLUMNS = ["network", "kernels", "type", "bp_ms", "as_run_ms", "pairs_ms", "at_end_ms", "as_run_over_bp",
           "pairs_over_bp", "at_end_over_bp", "bp_peak_mib", "as_run_peak_mib", "pairs_peak_mib", "at_end_peak_mib"]
#: update_every of the middle variant: two blocks' updates together (benchmarks.update_interleave).
PAIRS = 2


class FAAtEnd(FA):
    """FA's gradients in FA's order, every update applied once all exist (BP's apply_after_all)."""

    def backward_in_order(self, blocks, tensors, gradient, make_optimizer=None, need_input_gradient=False):
        first, pairs_by_block, _ = super().backward_in_order(blocks, tensors, gradient, None, need_input_gradient)
        pairs = [pair for pairs in reversed(pairs_by_block) for pair in pairs]
        return first, pairs_by_block, [self.apply_after_all(make_optimizer(), pairs, [])]


class DFAAtEnd(DFA):
    """DFA's updates in DFA's order, every one applied once all exist (BP's apply_after_all)."""

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        outputs, loss, pairs_by_block, _ = self._updates(blocks, features, labels, loss_fn)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        pairs = [pair for pairs in pairs_by_block for pair in pairs]
        return Step(train_op=self.apply_after_all(make_optimizer(), pairs, state_updates), loss=loss,
                    logits=outputs[-1])


#: Each rule with its every-update-at-the-end variant.
VARIANTS = {"FA": FAAtEnd, "DFA": DFAAtEnd}


def networks(quick=False):
    return [common.mlp(2, width=16)] if quick else [common.mlp(20), common.mlp(30)]


def measure(nets, steps=60, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network in nets:
        for kind, at_end in VARIANTS.items():
            benches = {"bp": common.Bench(network, "BP", threads=threads),
                       "as_run": common.Bench(network, kind, threads=threads),
                       "pairs": common.Bench(network, kind, threads=threads, settings={"update_every": PAIRS}),
                       "at_end": common.Bench(network, kind, threads=threads, algorithm_class=at_end)}
            times, peaks = common.times_and_peaks(benches, steps)
            ms = {key: common.median_ms(times[key]) for key in benches}
            rows.append({"network": network.name, "kernels": library, "type": kind, "bp_ms": ms["bp"],
                         "as_run_ms": ms["as_run"], "pairs_ms": ms["pairs"], "at_end_ms": ms["at_end"],
                         "as_run_over_bp": ms["as_run"] / ms["bp"], "pairs_over_bp": ms["pairs"] / ms["bp"],
                         "at_end_over_bp": ms["at_end"] / ms["bp"], "bp_peak_mib": peaks["bp"],
                         "as_run_peak_mib": peaks["as_run"], "pairs_peak_mib": peaks["pairs"],
                         "at_end_peak_mib": peaks["at_end"]})
            log(f"{network.name:>12} {library:>6} {kind:>3}: / BP {ms['as_run'] / ms['bp']:.3f}, in pairs "
                f"{ms['pairs'] / ms['bp']:.3f}, at the end {ms['at_end'] / ms['bp']:.3f}; peaks "
                f"{peaks['as_run']:.1f} / {peaks['pairs']:.1f} / {peaks['at_end']:.1f} MiB")
    return rows


def report(rows, out_dir=None, log=print):
    table = common.markdown_table(COLUMNS, rows, {
        "bp_ms": "BP (ms)", "as_run_ms": "as it runs (ms)", "pairs_ms": "update_every 2 (ms)",
        "at_end_ms": "updates at the end (ms)", "as_run_over_bp": "as it runs / BP",
        "pairs_over_bp": "update_every 2 / BP", "at_end_over_bp": "at the end / BP", "bp_peak_mib": "BP peak MiB",
        "as_run_peak_mib": "as it runs, peak MiB", "pairs_peak_mib": "update_every 2, peak MiB",
        "at_end_peak_mib": "at the end, peak MiB"})
    notes = f"""Median step time of four graphs timed in turns (BP; the rule as it runs, each block's update
applied during the backward; the rule with `update_every: {PAIRS}`, two blocks' updates together; the
rule with every update applied at the end) and one traced step's transient peak. long_fc at batch
{common.BATCH_SIZE}, momentum SGD, synthetic data. {common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "Updates during the backward or at the end", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        networks(args.quick), steps=6 if args.quick else 60, threads=args.threads), report)


if __name__ == "__main__":
    main()
