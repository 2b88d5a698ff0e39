"""Trace a TensorFlow 2 step: any `tf.function` call, or one `train_step` of a compiled Keras model.

    tracing.trace_keras(model, x, y, output_dir="runs/mlp")
    tracing.trace_function(step, x, y, output_dir="runs/my_step")

The step is imported into a Session (tracing/tf_step_import.py), run `warmup` times, then
traced `steps` times; the report of the median step is written as `memory_only` writes it
(tracing/report.py): timeline.txt, timeline.png, timeline_by_category.png, nodes.csv,
activations.csv, blocks.csv, trace.json and summary.json, in output_dir. The model's own variables do not change.
TensorFlow is imported when these functions run.
"""
import os

from definitions.errors import ConfigError

from tracing.persistent import persistent_bytes
from tracing.report import write_memory_report
from tracing.session_config import session_config
from tracing.tf_step_import import feed_dict, import_step
from tracing.tracer import trace

WARMUP_STEPS = 3
TRACED_STEPS = 3


def trace_function(fn, *args, output_dir, warmup=WARMUP_STEPS, steps=TRACED_STEPS, meta=None, config=None):
    """Trace fn(*args) (a tf.function, or a Python function it wraps) and write the report of the
    median of `steps` traced runs into output_dir. config: the Session's ConfigProto (threads).
    Returns the summary dict."""
    step = import_step(fn, args)
    results = run_traced(step, args, warmup=warmup, steps=steps, config=config)
    meta = {"network": getattr(fn, "__name__", type(fn).__name__), "algorithm": "tf.function",
            "iteration": warmup + steps, **(meta or {})}
    return write_report(step, results, output_dir, meta)


def run_traced(step, args, *, warmup=WARMUP_STEPS, steps=TRACED_STEPS, config=None):
    """Run an ImportedStep `warmup` times, then `steps` times traced: the TraceResults.
    config: the Session's ConfigProto (None: a run's, every op in the calling thread, so the
    traced order is the same every time; tracing/session_config.py)."""
    import tensorflow as tf

    if steps < 1 or warmup < 0:
        raise ConfigError(f"steps must be at least 1 and warmup at least 0 (got steps={steps}, warmup={warmup})")
    feed = feed_dict(step, args)
    with tf.compat.v1.Session(graph=step.graph, config=config or session_config()) as session:
        session.run(step.init_op, feed_dict=step.init_feed)
        for _ in range(warmup):
            session.run(step.fetches, feed_dict=feed)
        return [trace(session, step.fetches, feed) for _ in range(steps)]


def write_report(step, results, output_dir, meta):
    """The memory report of traced runs of an ImportedStep (the median step's, as memory_only's)."""
    os.makedirs(output_dir, exist_ok=True)
    last, others = results[-1], results[:-1]
    return write_memory_report(last.records, output_dir, graph=step.graph, node_stats=last.node_stats,
                               meta=meta, persistent_bytes=persistent_bytes(step.graph),
                               other_steps=[(other.records, other.node_stats) for other in others])


def keras_train_step(model):
    """The model's `train_step` as a tf.function; ConfigError if the model is not compiled."""
    import tensorflow as tf

    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ConfigError(f"the Keras model {getattr(model, 'name', model)!r} is not compiled: call "
                          "model.compile(optimizer=..., loss=...) before tracing its train_step")
    if not model.built or not model.optimizer.built:
        # Building inside the traced function would create variables there.
        raise ConfigError(f"the Keras model {model.name!r} or its optimizer is not built: run one "
                          "model.train_on_batch(x, y) (or model.build and optimizer.build) first")
    return tf.function(model.train_step)


def build_for_step(model, x, y):
    """Create the model's, its loss's, metrics' and optimizer's variables as `fit` does before its
    first step (Keras' own symbolic build), without changing the weights."""
    if hasattr(model, "_symbolic_build"):
        model._symbolic_build(data_batch=(x, y))
        return
    if not model.built:
        model(x)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def trace_keras(model, x, y, *, output_dir, warmup=WARMUP_STEPS, steps=TRACED_STEPS, meta=None, config=None):
    """Trace one `train_step` of a compiled Keras 3 model on the batch (x, y): its forward pass,
    loss, gradients, optimizer update and metrics. Returns the summary dict."""
    import tensorflow as tf

    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        keras_train_step(model)  # raises the message
    data = (tf.convert_to_tensor(x), tf.convert_to_tensor(y))
    build_for_step(model, *data)
    step = keras_train_step(model)
    meta = {"network": model.name, "algorithm": f"Keras {model.optimizer.__class__.__name__}",
            "batch_size": int(data[0].shape[0]), **(meta or {})}
    return trace_function(step, data, output_dir=output_dir, warmup=warmup, steps=steps, meta=meta, config=config)
