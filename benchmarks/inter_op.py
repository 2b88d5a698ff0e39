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
from training.algorithms import BP
from training.algorithms.base import Step
from training.blocks import forward_blocks

NAME = "inter_op"
COLUMNS = ["network", "kernels", "type", "callers_thread_ms", "pool_ms", "pool_over_callers_thread"]
#: "BP, updates free": BPUpdatesFree, built here only.
TYPES = ("BP", "DFA", "BP, updates free")
POOL_THREADS = 2


class BPUpdatesFree(BP):
    """BP's gradients with each block's update applied once the block's input gradient (its last
    read of the weights) exists, and the next block's backward waiting for the gradients only: on
    a pool the momentum updates may run beside the backward's products, as Keras' do
    (benchmarks/keras_phases.py). Its peak is FA's, not BP's: each weight gradient goes with its update."""

    next_block_waits_for_update = False

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        import tensorflow as tf
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        _, _, updates = self.backward_in_order(blocks, [features] + outputs, error, make_optimizer)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        return Step(train_op=tf.group(updates + state_updates, name="train_op"), loss=loss, logits=outputs[-1])


def bench(network, kind, threads, batch_size):
    if kind == "BP, updates free":
        return common.Bench(network, "BP", threads=threads, batch_size=batch_size, algorithm_class=BPUpdatesFree)
    return common.Bench(network, kind, threads=threads, batch_size=batch_size)


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
            benches = {"caller": bench(network, kind, (intra, -1), batch_size),
                       "pool": bench(network, kind, (intra, POOL_THREADS), batch_size)}
            try:
                times = common.interleaved_step_times(benches, steps, warmup=10, rounds=10)
            finally:
                for session in benches.values():
                    session.close()
            caller, pool = (common.median_ms(times[key]) for key in ("caller", "pool"))
            rows.append({"network": network.name, "kernels": library, "type": kind, "callers_thread_ms": caller,
                         "pool_ms": pool, "pool_over_callers_thread": pool / caller})
            log(f"{network.name:>12} {library:>6} {kind:>16}: caller's thread {caller:.2f} ms, "
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

{common.regenerate_per_family(NAME)}
"""
    common.write_results(NAME, COLUMNS, rows, "One op at a time against an inter-op pool", table, notes, out_dir, log)


def main(argv=None):
    common.main_per_kernel_family(argv, __doc__, NAME, COLUMNS[3:], lambda args: measure(
        networks(args.quick), steps=6 if args.quick else 60, threads=args.threads), report)


if __name__ == "__main__":
    main()
