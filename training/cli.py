"""The `experiment` command (also `python experiment.py`): train one network dict.

    experiment --name default_network --type BP --epochs 2

    experiment --resume runs/default_network_BP_001

Multi-word options are written as the network-dict keys are, with underscores (--output_dir);
the hyphenated spelling (--output-dir) is accepted too. Options left out keep the value of the
network dict; a key given both as its option and through --set must have the same value. Exit
codes: 0 done, 1 a write failed mid-run (disk full; continue with --resume), 2 bad input (a short
message, no traceback; includes an output directory that cannot be written, and a run directory
another process is running), 3 diverged (NaN or Inf in the loss or the weights), 4 out of memory during training (a step
the memory check let through; continue with --resume, or a smaller batch), 130 interrupted
(Ctrl-C, SIGTERM or SIGHUP; continue with --resume).
"""
import json
import os
import sys

import click

# TensorFlow's C++ start-up chatter buries the per-epoch lines; a user can still turn it on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from definitions.config import DATASETS, TRAINING_TYPES
from definitions.errors import ZppMemError
from definitions import cli_input
from training.cli_options import given_options, load_definitions, merge_settings, network_config, network_options
from training.malloc_settings import keep_freed_memory
from training.onednn_primitives import keep_onednn_primitives
from training.parent_death import end_with_parent_from_env
from training.quiet_import import import_tensorflow_quietly
from training.stop_signals import Stopped, handling, raise_stopped, stop_signals
from training.run_dir import OutOfMemory, WriteFailed, check_path, check_run_id, describe_os_error

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_OUT_OF_MEMORY = 4
EXIT_INTERRUPTED = 130
#: Set to 1 to make TensorFlow's ops deterministic (tests that compare runs across processes).
DETERMINISM_ENV = "ZPPMEM_DETERMINISTIC"


class _Experiment(cli_input.Group):
    """A group that trains when no subcommand is given (`experiment --name X`)."""

    def parse_args(self, ctx, args):
        # Options take values, so a value equal to a command name must not start that command:
        # only the first argument can name a subcommand.
        if args and args[0] in self.commands:
            ctx.meta["subcommand_first"] = True
        return super().parse_args(ctx, args)


@click.group(cls=_Experiment, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], **cli_input.SPELLING})
@network_options(with_type=True)
@click.option("--id", "run_id", default=None, help="Name of the run directory (default: <network>_<type>_<NNN>).")
@click.option("--output_dir", default="runs", show_default=True, type=cli_input.Path(file_okay=False),
              help="Directory that receives one subdirectory per run.")
@click.option("--data_dir", default=None, type=cli_input.Path(file_okay=False),
              help="Where the keras dataset files are [default: ~/.keras/datasets].")
@click.option("--resume", "resume_dir", default=None, metavar="RUN_DIR",
              type=cli_input.Path(file_okay=False),
              help="Continue the run in RUN_DIR from its newest valid checkpoint, with the run's own "
                   "config.json; only --data_dir may be given with it.")
@click.option("--list", "list_all", is_flag=True, help="List networks, sequences, datasets and types, then exit.")
@click.pass_context
def main(ctx, name, settings, run_id, output_dir, data_dir, resume_dir, list_all, **overrides):
    """Train a network dict with the algorithm of --type and report its accuracy."""
    if ctx.invoked_subcommand is not None:
        return
    overrides = given_options(overrides)
    if resume_dir is not None:
        _reject_with_resume(ctx, settings, overrides)
    # SIGTERM and SIGHUP stop the run as Ctrl-C does: after the current step, resumable.
    with handling(stop_signals(), raise_stopped):
        _run_or_resume(ctx, name, settings, run_id, output_dir, data_dir, resume_dir, list_all, overrides)


def _run_or_resume(ctx, name, settings, run_id, output_dir, data_dir, resume_dir, list_all, overrides):
    started = {}
    try:
        # Started by a tuner worker: end with it (training/parent_death.py). Inside the try: a
        # worker already gone stops the run here, as a signal would.
        end_with_parent_from_env()
        for option, path in (("--output_dir", output_dir), ("--data_dir", data_dir), ("--resume", resume_dir)):
            check_path(option, path)
        if run_id is not None:
            check_run_id(run_id)
        keep_freed_memory()  # before TensorFlow allocates: its steps reuse freed memory
        keep_onednn_primitives()  # before its first op: convolution gradients not rebuilt each step
        import_tensorflow_quietly()
        values = merge_settings(settings, overrides)
        if list_all:
            _print_lists(values)
            return
        _determinism_from_env()
        from training.progress import terminal_bars
        from training.run import final_line, resume_experiment, run_experiment
        if resume_dir is not None:
            run_dir, result = resume_experiment(resume_dir, data_dir, log=_echo, progress=terminal_bars())
        else:
            config = network_config(name, values)
            from definitions.config import ignored_settings
            for line in ignored_settings(config):  # accepted, but the user meant something by it
                click.echo(cli_input.one_line(f"Warning: {line}"), err=True)
            run_dir, result = run_experiment(config, output_dir, data_dir, run_id, log=_echo,
                                             progress=terminal_bars(),
                                             started=lambda path: started.update(run_dir=path))
    except WriteFailed as error:
        # The input was fine and training had started: not exit 2. The checkpoints are intact.
        where = error.run_dir or resume_dir or started.get("run_dir")
        hint = f"; once it can be written, continue with: experiment --resume {where}" if where else ""
        click.echo(cli_input.one_line(f"Error: {error}{hint}"), err=True)
        ctx.exit(EXIT_FAILED)
    except OutOfMemory as error:
        # Before ZppMemError: it is one, but the input was fine and the checkpoints are kept.
        where = error.run_dir or resume_dir or started.get("run_dir")
        hint = f"; continue with: experiment --resume {where}" if where else ""
        click.echo(cli_input.one_line(f"Error: {error}{hint}"), err=True)
        ctx.exit(EXIT_OUT_OF_MEMORY)
    except ZppMemError as error:
        click.echo(cli_input.one_line(f"Error: {error}"), err=True)
        ctx.exit(EXIT_BAD_INPUT)
    except OSError as error:  # a write no layer above expected to fail: still one line, no traceback
        click.echo(cli_input.one_line(f"Error: {describe_os_error(error)}"), err=True)
        ctx.exit(EXIT_FAILED)
    except KeyboardInterrupt as stop:
        where = resume_dir or started.get("run_dir")
        hint = f"; continue it with: experiment --resume {where}" if where else ""
        by = f" by {stop.name}" if isinstance(stop, Stopped) else ""
        _echo_if_possible(f"\ninterrupted{by}{hint}")
        ctx.exit(EXIT_INTERRUPTED)
    _echo(f"results in {run_dir}")
    _echo(final_line(result))
    if result["status"] == "diverged":
        ctx.exit(EXIT_DIVERGED)


def _reject_with_resume(ctx, settings, overrides):
    """--resume continues a run as it was configured: a changed setting would not be that run."""
    given = [f"--{key}" for key, value in overrides.items() if value is not None]
    given += ["--set"] if settings else []
    given += [f"--{key}" for key in ("name", "id", "output_dir")
              if ctx.get_parameter_source("run_id" if key == "id" else key) != click.core.ParameterSource.DEFAULT]
    if given:
        click.echo(f"Error: --resume continues a run with the config.json in its directory; "
                   f"{', '.join(given)} cannot be given with it (only --data_dir can)", err=True)
        ctx.exit(EXIT_BAD_INPUT)


def _determinism_from_env():
    if os.environ.get(DETERMINISM_ENV, "").strip().lower() in ("1", "true", "yes"):
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


def _echo_if_possible(line):
    # After a hangup the terminal is gone and writing to it fails (EIO): the run must still
    # end as interrupted (exit 130), not with a traceback and exit 1.
    try:
        click.echo(line, err=True)
    except OSError:
        pass


def _echo(line):
    click.echo(line)
    sys.stdout.flush()


def _print_lists(values):
    """Every name, and where each comes from: shipped, a --definitions file, a module."""
    from definitions.registry import SHIPPED, origins
    load_definitions(values)
    for kind in ("network", "sequence"):
        for origin, names in origins(kind):
            label = f"{kind}s:" if origin == SHIPPED else f"{kind}s from {origin}:"
            click.echo(f"{label:<10} {', '.join(names)}")
    click.echo("datasets:  " + ", ".join(DATASETS))
    click.echo("types:     " + ", ".join(TRAINING_TYPES))


def _register_subcommands():
    from tracing.compare import compare_command
    from training.cli_trace import trace_command
    from training.cli_view import view_command
    from training.plan_command import plan_command
    main.add_command(compare_command, name="compare")
    main.add_command(plan_command, name="plan")
    main.add_command(trace_command, name="trace")
    main.add_command(view_command, name="view")


_register_subcommands()

if __name__ == "__main__":
    main()
