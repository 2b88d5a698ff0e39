"""Run one step with full tracing and turn its RunMetadata into records.

TensorFlow is imported when trace() runs, not when this module is imported, so the rest of
the tracer loads fast and can be tested without it.
"""
from dataclasses import dataclass

from tracing.records import node_stats_from_step_stats, records_from_step_stats


@dataclass(frozen=True)
class TraceResult:
    records: list  # AllocationRecord, in step-stats order
    values: object  # what session.run returned for the fetches
    run_metadata: object  # the RunMetadata proto (for TensorBoard's add_run_metadata)
    node_stats: list  # NodeStat, in step-stats order


def trace(session, fetches, feed_dict=None):
    """Run `fetches` once under FULL_TRACE and return its allocation records.

    Memory records exist only with FULL_TRACE under a Session. Trace after a few warm-up
    steps: the first runs also allocate one-off buffers (iterator state, kernel caches).
    """
    import tensorflow as tf

    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    run_metadata = tf.compat.v1.RunMetadata()
    values = session.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
    return TraceResult(
        records=records_from_step_stats(run_metadata.step_stats),
        values=values,
        run_metadata=run_metadata,
        node_stats=node_stats_from_step_stats(run_metadata.step_stats),
    )
