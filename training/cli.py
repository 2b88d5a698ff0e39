"""The `experiment` command (also `python experiment.py`): train one network dict.

    experiment --name default_network --type BP --epochs 2

    experiment --resume runs/default_network_BP_001

Options left out keep the value of the network dict. Exit codes: 0 done, 2 bad input (a short
message, no traceback), 3 diverged (NaN or Inf in the loss or the weights), 130 interrupted
(Ctrl-C; continue with --resume).
"""
import json
import os
import sys

import click

# TensorFlow's C++ start-up chatter buries the per-epoch lines; a user can still turn it on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from definitions.config import COST_FUNCTIONS, DATASETS, OPTIMIZERS, TRAINING_TYPES, field_help
from definitions.errors import ZppMemError
from training.quiet_import import import_tensorflow_quietly

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130
#: Set to 1 to make TensorFlow's ops deterministic (tests that compare runs across processes).
DETERMINISM_ENV = "ZPPMEM_DETERMINISTIC"


class _Experiment(click.Group):
    """A group that trains when no subcommand is given (`experiment --name X`)."""

    def parse_args(self, ctx, args):
        # Options take values, so a value equal to a command name must not start that command:
        # only the first argument can name a subcommand.
        if args and args[0] in self.commands:
            ctx.meta["subcommand_first"] = True
        return super().parse_args(ctx, args)


def _override(name, type_, help_text=None):
    return click.option(f"--{name}", name, type=type_, default=None,
                        help=(help_text or field_help()[name]) + " [default: from the network dict]")


@click.group(cls=_Experiment, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--name", default="default_network", show_default=True,
              help="Network dict from definitions/networks.py.")
@_override("type", click.Choice(TRAINING_TYPES, case_sensitive=False), "Training algorithm.")
@_override("learning_rate", float)
@_override("batch_size", int)
@_override("epochs", int)
@_override("cost_function", click.Choice(COST_FUNCTIONS))
@_override("optimizer", click.Choice(OPTIMIZERS))
@_override("momentum", float)
@_override("dataset_name", click.Choice(DATASETS))
@_override("sequence", str)
@_override("seed", int)
@_override("memory_only", click.BOOL)
@_override("gather_stats", click.BOOL)
@_override("save_graph", click.BOOL)
@_override("save_model", click.BOOL)
@_override("checkpoint_every", int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Set any network-dict key, e.g. --set memory_warmup=5 --set 'minimum_accuracy=[[1, 50]]' "
                   "(VALUE is JSON, else a string). Repeatable.")
@click.option("--id", "run_id", default=None, help="Name of the run directory (default: <network>_<type>_<NNN>).")
@click.option("--output_dir", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Directory that receives one subdirectory per run.")
@click.option("--data_dir", default=None, type=click.Path(file_okay=False),
              help="Where the keras dataset files are [default: ~/.keras/datasets].")
@click.option("--resume", "resume_dir", default=None, metavar="RUN_DIR",
              type=click.Path(file_okay=False),
              help="Continue the run in RUN_DIR from its newest valid checkpoint, with the run's own "
                   "config.json; only --data_dir may be given with it.")
@click.option("--list", "list_all", is_flag=True, help="List networks, sequences, datasets and types, then exit.")
@click.pass_context
def main(ctx, name, settings, run_id, output_dir, data_dir, resume_dir, list_all, **overrides):
    """Train a network dict with the algorithm of --type and report its accuracy."""
    if ctx.invoked_subcommand is not None:
        return
    if list_all:
        _print_lists()
        return
    if overrides.get("type"):
        overrides["type"] = overrides["type"].upper()
    if resume_dir is not None:
        _reject_with_resume(ctx, settings, overrides)
    started = {}
    try:
        import_tensorflow_quietly()
        _determinism_from_env()
        from training.progress import terminal_bars
        from training.run import final_line, resolve_config, resume_experiment, run_experiment
        if resume_dir is not None:
            run_dir, result = resume_experiment(resume_dir, data_dir, log=_echo, progress=terminal_bars())
        else:
            from definitions.registry import get_network
            config = resolve_config(get_network(name), name, {**_parse_settings(settings), **overrides})
            run_dir, result = run_experiment(config, output_dir, data_dir, run_id, log=_echo,
                                             progress=terminal_bars(),
                                             started=lambda path: started.update(run_dir=path))
    except ZppMemError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        where = resume_dir or started.get("run_dir")
        hint = f"; continue it with: experiment --resume {where}" if where else ""
        click.echo(f"\ninterrupted{hint}", err=True)
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


def _parse_settings(settings):
    values = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


def _echo(line):
    click.echo(line)
    sys.stdout.flush()


def _print_lists():
    from definitions.registry import network_names, sequence_names
    click.echo("networks:  " + ", ".join(network_names()))
    click.echo("sequences: " + ", ".join(sequence_names()))
    click.echo("datasets:  " + ", ".join(DATASETS))
    click.echo("types:     " + ", ".join(TRAINING_TYPES))


def _register_subcommands():
    from tracing.compare import compare_command
    main.add_command(compare_command, name="compare")


_register_subcommands()

if __name__ == "__main__":
    main()
