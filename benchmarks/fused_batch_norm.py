"""What the fused batch norm buys: each type's step and traced peak with BatchNormalization's fused
kernel (FusedBatchNormV3, the layer's default) against moments + batch_normalization (fused=False).

    python -m benchmarks.fused_batch_norm [--quick] [--append]

For each network both versions of every type are built side by side (same data, weights and
momentum SGD as step_time) and timed in turns in one process (common.interleaved_step_times);
one traced step gives each graph's transient peak, and five more the time of its batch-norm ops
(their run times summed: the part of the step the change touches, free of the few hundredths by
which whole steps of different graphs of one process differ on a VM). vgg_16 and resnet_18 on
32x32x3 at batch 16, every normalisation of theirs over the channels of a 4-D input. Writes
results/fused_batch_norm.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ...
--append` keeps the other family's rows).
"""
import dataclasses
from dataclasses import dataclass

from benchmarks import common

NAME = "fused_batch_norm"
COLUMNS = ["network", "kernels", "type", "fused_bn_ms", "unfused_bn_ms", "fused_ms", "unfused_ms", "speedup",
           "fused_over_bp", "unfused_over_bp", "fused_peak_mib", "unfused_peak_mib"]
#: what names a batch-norm op in a traced step: the fused kernels, or the scopes of tf.nn.moments and
#: tf.nn.batch_normalization (their gradients keep the scope: .../moments/mean_grad/...).
BN_MARKS = ("FusedBatchNorm", "moments/", "batchnorm/")
TRACES = 5
TYPES = ("BP", "DFA", "DFAMEM", "DRTP")
BATCH = 16


@dataclass(frozen=True)
class Unfused(common.Network):
    """A network whose BatchNormalization layers are built with fused=False."""

    def layers(self):
        from layers.batch_norm import unfused
        return unfused(super().layers())


def unfused_network(network):
    return Unfused(**dataclasses.asdict(network))


def networks(quick=False):
    if quick:
        return [common.named("liao_mnist_bn", (12, 12, 1))]
    return [common.named("vgg_16"), common.named("resnet_18")]


def measure(nets, types=TYPES, steps=30, warmup=5, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network in nets:
        unfused = unfused_network(network)
        benches = {(kind, fused): common.Bench(network if fused else unfused, kind, threads=threads, batch_size=BATCH)
                   for kind in types for fused in (True, False)}
        bn_ms = {key: batch_norm_ms(bench) for key, bench in benches.items()}
        times, peaks = common.times_and_peaks(benches, steps, warmup=warmup)
        medians = {key: common.median_ms(step) for key, step in times.items()}
        for kind in types:
            fused_ms, unfused_ms = medians[kind, True], medians[kind, False]
            rows.append({"network": network.name, "kernels": library, "type": kind, "fused_bn_ms": bn_ms[kind, True],
                         "unfused_bn_ms": bn_ms[kind, False], "fused_ms": fused_ms,
                         "unfused_ms": unfused_ms, "speedup": unfused_ms / fused_ms,
                         "fused_over_bp": fused_ms / medians["BP", True],
                         "unfused_over_bp": unfused_ms / medians["BP", False],
                         "fused_peak_mib": peaks[kind, True], "unfused_peak_mib": peaks[kind, False]})
            log(f"{network.name:>10} {library:>6} {kind:>6}: batch norm {bn_ms[kind, True]:.2f} against "
                f"{bn_ms[kind, False]:.2f} ms; step fused {fused_ms:8.2f} ms, unfused {unfused_ms:8.2f} ms "
                f"({unfused_ms / fused_ms:.3f}x); peak {peaks[kind, True]:.2f} against {peaks[kind, False]:.2f} MiB")
    return rows


def batch_norm_ms(bench, traces=TRACES):
    """Median over `traces` traced steps of the summed run times of the batch-norm ops."""
    import statistics

    import tracing
    bench.run(1)
    return statistics.median(
        sum(node.run_time_us for node in tracing.trace(bench.session, bench.fetches).node_stats
            if any(mark in node.name or mark in node.op_type for mark in BN_MARKS)) / 1000
        for _ in range(traces))


def report(rows, out_dir=None, log=print):
    table = common.markdown_table(COLUMNS, rows, {
        "fused_bn_ms": "fused batch norm (ms)", "unfused_bn_ms": "unfused batch norm (ms)", "fused_ms": "fused (ms)",
        "unfused_ms": "unfused (ms)", "speedup": "unfused / fused",
        "fused_over_bp": "fused / BP", "unfused_over_bp": "unfused / BP", "fused_peak_mib": "fused peak MiB",
        "unfused_peak_mib": "unfused peak MiB"})
    notes = f"""Median step time of each type with the fused batch norm (FusedBatchNormV3 and its gradient) and
with moments + batch_normalization (`fused=False`), timed in turns in one process; `/ BP`: the
type's step over BP's with the same batch norm; `batch norm (ms)`: the run times of a step's
batch-norm ops, forward and backward, summed (median of {TRACES} traced steps); peaks: one traced
step's transient peak. Whole steps of different graphs in one process differ by a few hundredths
on this VM whatever their ops, so the batch-norm columns are the measure of the change. Batch
{BATCH}, 32x32x3 synthetic data, momentum SGD. {common.machine_line()}.

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "The fused batch norm against moments + batch_normalization", table,
                         notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        networks(args.quick), types=("BP", "DFA") if args.quick else TYPES, steps=4 if args.quick else 30,
        warmup=1 if args.quick else 5, threads=args.threads), report)


if __name__ == "__main__":
    main()
