"""The `experiment` command (also `python experiment.py`): train one network dict.

    experiment --name default_network --type BP --epochs 2

    experiment --resume runs/default_network_BP_001

Options left out keep the value of the network dict; a key given both as its option and through
--set must have the same value. Exit codes: 0 done, 1 a write failed mid-run (disk full; continue
with --resume), 2 bad input (a short message, no traceback; includes an output directory that
cannot be written), 3 diverged (NaN or Inf in the loss or the weights), 130 interrupted (Ctrl-C;
continue with --resume).
"""
import json
import os
import sys

import click

# TensorFlow's C++ start-up chatter buries the per-epoch lines; a user can still turn it on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from definitions.config import COST_FUNCTIONS, DATASETS, OPTIMIZERS, TRAINING_TYPES, field_help, validate
from definitions.errors import ConfigError, ZppMemError
from definitions import cli_input
from training.quiet_import import import_tensorflow_quietly
from training.run_dir import WriteFailed, check_path, check_run_id, describe_os_error

EXIT_FAILED = 1
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
@_override("checkpoint_steps", int)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Set any network-dict key, e.g. --set memory_warmup=5 --set 'minimum_accuracy=[[1, 50]]' "
                   "(VALUE is JSON, else a string). Repeatable.")
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
    if list_all:
        _print_lists()
        return
    overrides = {key: value for key, value in overrides.items() if value is not None}  # None: not given
    if overrides.get("type"):
        overrides["type"] = overrides["type"].upper()
    if resume_dir is not None:
        _reject_with_resume(ctx, settings, overrides)
    started = {}
    try:
        for option, path in (("--output_dir", output_dir), ("--data_dir", data_dir), ("--resume", resume_dir)):
            check_path(option, path)
        if run_id is not None:
            check_run_id(run_id)
        import_tensorflow_quietly()
        values = merge_settings(settings, overrides)
        _determinism_from_env()
        from training.progress import terminal_bars
        from training.run import final_line, resolve_config, resume_experiment, run_experiment
        if resume_dir is not None:
            run_dir, result = resume_experiment(resume_dir, data_dir, log=_echo, progress=terminal_bars())
        else:
            from definitions.registry import get_network
            config = resolve_config(get_network(name), name, values)
            run_dir, result = run_experiment(config, output_dir, data_dir, run_id, log=_echo,
                                             progress=terminal_bars(),
                                             started=lambda path: started.update(run_dir=path))
    except WriteFailed as error:
        # The input was fine and training had started: not exit 2. The checkpoints are intact.
        where = error.run_dir or resume_dir or started.get("run_dir")
        hint = f"; once it can be written, continue with: experiment --resume {where}" if where else ""
        click.echo(cli_input.one_line(f"Error: {error}{hint}"), err=True)
        ctx.exit(EXIT_FAILED)
    except ZppMemError as error:
        click.echo(cli_input.one_line(f"Error: {error}"), err=True)
        ctx.exit(EXIT_BAD_INPUT)
    except OSError as error:  # a write no layer above expected to fail: still one line, no traceback
        click.echo(cli_input.one_line(f"Error: {describe_os_error(error)}"), err=True)
        ctx.exit(EXIT_FAILED)
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


def merge_settings(settings, options):
    """The options given and the --set KEY=VALUE items as one dict of network-dict keys.

    A key given twice (as its option and through --set, or in two --set items) must have the
    same value both times: two different values would leave one silently ignored.
    """
    values, sources = {}, {}
    given = [(key, value, f"--{key} {_show(value)}") for key, value in options.items()]
    given += [(*parse_setting(item), f"--set {item}") for item in settings]
    for key, value, source in given:
        if key == "name":  # only --set can name it: --name is not a network-dict option
            raise ConfigError(f"{source}: the network dict is chosen with --name, its name is not a setting")
        if key in values and _checked(key, values[key]) != _checked(key, value):
            raise ConfigError(f"{sources[key]} and {source} disagree: give {key!r} one value")
        values[key] = value
        sources.setdefault(key, source)
    return values


def parse_setting(item):
    """`KEY=VALUE` of --set as (key, value): VALUE is JSON, else the string itself."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def _checked(key, value):
    """The value as the config stores it (`1` and `1.0` are the same learning rate); ConfigError if invalid."""
    return validate({key: value}).to_dict()[key]


def _show(value):
    return json.dumps(value) if isinstance(value, bool) else str(value)


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
