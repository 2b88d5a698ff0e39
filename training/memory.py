"""Trace the memory of a Trainer's training step and write the report files.

Used by `memory_only` (warm up, trace `memory_steps` steps, report the median, stop) and by
`gather_stats` (trace one step every `stat_period` iterations). The files and their formats
belong to tracing/.
"""
import os

import tracing


def traced_step(trainer, fetches, out_dir, feed_dict=None, others=()):
    """Run `fetches` once under FULL_TRACE; write the report into out_dir. Returns (values, summary).

    others: TraceResults of more runs of the same step, traced before (memory_only's median).
    """
    model, config = trainer.model, trainer.config
    result = tracing.trace(trainer.session, fetches, feed_dict)
    meta = {"network": config.name, "algorithm": config.type, "sequence": config.sequence,
            "dataset": config.dataset_name, "iteration": trainer.iteration + 1, "batch_size": config.batch_size,
            "kernels": _kernel_library()}
    if model.memory_plan is not None:  # a memory_budget run: timeline.png draws the budget
        meta[tracing.BUDGET_KEY] = model.memory_plan.budget_bytes
    summary = tracing.write_memory_report(result.records, out_dir, graph=model.graph, node_stats=result.node_stats,
                                          meta=meta, persistent_bytes=tracing.persistent_bytes(model.graph),
                                          other_steps=[(other.records, other.node_stats) for other in others])
    if trainer.writer is not None:
        trainer.writer.add_run_metadata(result.run_metadata, f"iteration_{trainer.iteration + 1}")
    return result.values, summary


def describe(summary, out_dir):
    return (f"memory peak: {summary['peak_bytes'] / 2**20:.3f} MiB transient + "
            f"{summary['persistent_bytes'] / 2**20:.3f} MiB persistent, files in {out_dir}")


def memory_dir(run_dir, iteration=None):
    base = os.path.join(run_dir, "memory")
    return base if iteration is None else os.path.join(base, f"iteration_{iteration}")


def _kernel_library():
    """oneDNN, Eigen or cuDNN: the same step allocates differently under each (ARCHITECTURE.md,
    "Kernels are measured, not written down"), so the timeline's title names it."""
    from training.kernels import kernel_family, run_device
    return kernel_family(run_device()).library
