"""Per-op memory tracing of one training step.

trace() runs a step under FULL_TRACE and returns allocation records; everything else
(timelines, peak, categories, CSVs, plots, comparisons) is computed from those records, the
node stats and the graph, without importing TensorFlow. trace_function() and trace_keras() do
the same for a TensorFlow 2 step (a tf.function, a Keras train_step), imported into a Session.
"""
from tracing.compare import compare_runs
from tracing.figures import BUDGET_KEY
from tracing.keras_step import trace_function, trace_keras
from tracing.persistent import persistent_breakdown, persistent_bytes
from tracing.records import AllocationRecord, NodeStat, OutputSlot, node_stats_from_step_stats, records_from_step_stats
from tracing.report import write_memory_report
from tracing.tracer import TraceResult, trace

__all__ = [
    "AllocationRecord",
    "BUDGET_KEY",
    "NodeStat",
    "OutputSlot",
    "TraceResult",
    "compare_runs",
    "node_stats_from_step_stats",
    "persistent_breakdown",
    "persistent_bytes",
    "records_from_step_stats",
    "trace",
    "trace_function",
    "trace_keras",
    "write_memory_report",
]
