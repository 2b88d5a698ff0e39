"""Does running one op at a time cost speed? A step with every op in the caller's thread (a run's
setting, tracing/session_config.py) against the same graph on an inter-op pool of two threads.

    python -m benchmarks.inter_op [--quick] [--append]

Keras' `fit` runs independent ops (a layer's two gradient products) side by side on TensorFlow's
inter-op pool, while a run here runs them one at a time so that its memory is the same in every
step and predictable. This benchmark measures what that costs: the two sessions of each (network,
type) are timed in turns in one process (benchmarks.common.interleaved_step_times), same intra-op
threads. Writes results/inter_op.{csv,md}; run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0
... --append` keeps the other family's rows).
"""
import statistics

from benchmarks import common

NAME = "inter_op"
COLUMNS = ["network", "kernels", "type", "callers_thread_ms", "pool_ms", "pool_over_callers_thread"]
TYPES = ("BP", "DFA")
POOL_THREADS = 2


def networks(quick=False):
    if quick:
        return [(common.mlp(2, width=16), 16)]
    return [(common.mlp(20), common.BATCH_SIZE), (common.mlp(30), common.BATCH_SIZE), (common.named("vgg_16"), 16)]


def measure(nets, types=TYPES, steps=60, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    intra = common.thread_counts(threads)[0]
    rows = []
    for network, batch_size in nets:
        for kind in types:
            benches = {"caller": common.Bench(network, kind, threads=(intra, -1), batch_size=batch_size),
                       "pool": common.Bench(network, kind, threads=(intra, POOL_THREADS), batch_size=batch_size)}
            try:
                times = common.interleaved_step_times(benches, steps, warmup=10, rounds=10)
            finally:
                for bench in benches.values():
                    bench.close()
            caller, pool = (common.median_ms(times[key]) for key in ("caller", "pool"))
            rows.append({"network": network.name, "kernels": library, "type": kind, "callers_thread_ms": caller,
                         "pool_ms": pool, "pool_over_callers_thread": pool / caller})
            log(f"{network.name:>12} {library:>6} {kind:>4}: caller's thread {caller:.2f} ms, "
                f"pool of {POOL_THREADS} {pool:.2f} ms ({pool / caller:.3f})")
    return rows


def report(rows, out_dir=None, log=print):
    table = common.markdown_table(COLUMNS, rows, {"callers_thread_ms": "ops in the caller's thread (ms)",
                                                  "pool_ms": f"inter-op pool of {POOL_THREADS} (ms)",
                                                  "pool_over_callers_thread": "pool / caller's thread"})
    notes = f"""Median step time of the same training graph in two sessions, timed in turns: every op in
the caller's thread (a run's setting), and an inter-op pool of {POOL_THREADS} threads; the same intra-op
threads. long_fc at batch {common.BATCH_SIZE}, vgg_16 on 32x32x3 at batch 16, momentum SGD, synthetic data.
{common.machine_line()}.

Regenerate: `python -m benchmarks.inter_op`, then `TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.inter_op --append`.
"""
    common.write_results(NAME, COLUMNS, rows, "One op at a time against an inter-op pool", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        networks(args.quick), steps=6 if args.quick else 60, threads=args.threads), report)


if __name__ == "__main__":
    main()
