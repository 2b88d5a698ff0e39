"""`experiment trace SPEC`: the memory of one step of the user's own TensorFlow 2 model.

    experiment trace my_model.py:mlp --output_dir runs --id keras_mlp
    experiment compare runs/keras_mlp runs/default_network_DFA_001

SPEC names a function (training/trace_spec.py) that returns a compiled Keras model and a batch,
or a function and its arguments. The step is imported into a Session and traced as
`memory_only` traces the project's own steps (tracing/keras_step.py); the report goes to
DIR/<id>/memory/, so `experiment compare` reads it beside the project's runs. Exit codes: 0,
1 (a write failed, or the step failed to run), 2 bad input (one `Error:` line; no directory made).
"""
import os

import click

from definitions import cli_input
from definitions.config import MAX_TRACED_STEPS, MAX_WARMUP
from definitions.errors import ZppMemError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


@click.command("trace", context_settings=cli_input.SPELLING)
@click.argument("spec")
@click.option("--output_dir", default="runs", show_default=True, type=cli_input.Path(file_okay=False),
              help="Directory that receives the run directory.")
@click.option("--id", "run_id", default=None, help="Name of the run directory (default: <function>_trace_<NNN>).")
@click.option("--batch_size", default=None, type=click.IntRange(min=1),
              help="Passed to the function if it has a batch_size parameter; else the Keras batch's first N rows.")
@click.option("--memory_steps", default=3, show_default=True, type=click.IntRange(1, MAX_TRACED_STEPS),
              help="Traced steps; the report is the median one's.")
@click.option("--memory_warmup", default=3, show_default=True, type=click.IntRange(0, MAX_WARMUP),
              help="Steps run before the traced ones (their first runs allocate one-off buffers).")
@click.pass_context
def trace_command(ctx, spec, output_dir, run_id, batch_size, memory_steps, memory_warmup):
    """Trace one step of your own Keras model or tf.function, per op; write the memory report."""
    from training.malloc_settings import keep_freed_memory
    from training.onednn_primitives import keep_onednn_primitives
    from training.quiet_import import import_tensorflow_quietly
    from training.run_dir import WriteFailed, check_path, check_run_id, create_run_dir, describe_os_error
    try:
        check_path("--output_dir", output_dir)
        if run_id is not None:
            check_run_id(run_id)
        keep_freed_memory()  # as a training run does: the steps reuse what they free
        keep_onednn_primitives()  # and keep their convolution-gradient primitives
        import_tensorflow_quietly()
        run_dir, summary = _trace(spec, output_dir, run_id, batch_size, memory_steps, memory_warmup,
                                  create_run_dir)
    except (WriteFailed, StepFailed) as error:  # the input was fine: not exit 2
        _fail(ctx, str(error), EXIT_FAILED)
    except ZppMemError as error:
        _fail(ctx, str(error), EXIT_BAD_INPUT)
    except OSError as error:  # a write nothing above expected to fail: still one line
        _fail(ctx, describe_os_error(error), EXIT_FAILED)
    from training.memory import describe
    click.echo(describe(summary, os.path.join(run_dir, "memory")))
    click.echo(f"results in {run_dir}")


def _fail(ctx, message, code):
    click.echo(cli_input.one_line(f"Error: {message}"), err=True)
    ctx.exit(code)


class StepFailed(Exception):
    """TensorFlow refused to run the imported step (an op error): not the user's typing."""


def _trace(spec, output_dir, run_id, batch_size, steps, warmup, create_run_dir):
    import tensorflow as tf

    from tracing.keras_step import build_for_step, keras_train_step, run_traced, write_report
    from tracing.tf_step_import import import_step
    from training.trace_spec import load_target

    target = load_target(spec, batch_size)
    if target.model is not None:
        data = tuple(tf.convert_to_tensor(part) for part in target.batch)
        build_for_step(target.model, *data)
        fn, args = keras_train_step(target.model), (data,)
        meta = {"network": target.model.name, "algorithm": f"Keras {type(target.model.optimizer).__name__}",
                "batch_size": int(data[0].shape[0])}
    else:
        fn, args = target.step, target.args
        meta = {"network": target.name, "algorithm": "tf.function"}
    step = import_step(fn, args)  # all checks pass before the run directory exists
    run_dir = create_run_dir(output_dir, target.name, "trace", run_id)
    try:
        results = run_traced(step, args, warmup=warmup, steps=steps)
    except tf.errors.OpError as error:
        raise StepFailed(f"the imported step failed to run: {error.message.splitlines()[0]}") from None
    meta.update(spec=spec, iteration=warmup + steps)
    return run_dir, write_report(step, results, os.path.join(run_dir, "memory"), meta)
