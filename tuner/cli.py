"""`tuner run` and `tuner summary`: the command line over grid, runner, executors and summary.

Exit codes: 0 every run completed, 1 some run failed or was busy (another process runs its
directory), or the disk failed mid-sweep, 2 bad input (one line, no traceback; includes an
--output that cannot be written and a sweep another tuner runs), 130 interrupted (Ctrl-C, SIGTERM
or SIGHUP; run the same command again to resume).

Options are spelled in snake_case, like the experiment's and the network-dict keys
(`--retry_failed`); the kebab-case spelling of each (`--retry-failed`) is accepted too.
"""
import errno
import math
import os
import shutil
import shlex
import signal
import sys
import threading

import click
from click.core import ParameterSource

from definitions.errors import ZppMemError
from definitions import cli_input
from training.run_dir import check_writable, describe_os_error
from training.stop_signals import handling, stop_signals
from tuner import executors, summary
from tuner.gridfile import load_grid_file, merge_params, parse_grid_option
from tuner.experiment_command import GridKeyError
from tuner.grid import expand
from tuner.runner import run_sweep
from tuner.state import SweepBusy

#: This Python's experiment, importable from any directory (the checkout's experiment.py is
#: found only from the checkout's root): `<sys.executable> -m training.cli`.
DEFAULT_PREFIX = f"{shlex.quote(sys.executable)} -m training.cli"
DEFAULT_OUTPUT = os.path.join("runs", "sweep")
EXIT_FAILED = 1


@click.group(cls=cli_input.Group, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Run grids of experiment commands that resume where they stopped."""


def _parse_grid(ctx, param, values):
    try:
        return [parse_grid_option(value) for value in values]
    except ValueError as error:
        raise click.BadParameter(cli_input.one_line(error), ctx=ctx, param=param) from None


def _check_timeout(ctx, param, value):
    # FloatRange lets NaN through (no comparison with NaN is true), and a NaN timeout never fires.
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds (leave --timeout out for no limit)",
                                 ctx=ctx, param=param)
    return value


def _check_scheduler(ctx, param, value):
    # Dask's Client leaves a half-made object behind for an address it cannot parse, and the
    # interpreter then hangs 20 s at exit printing a traceback: parse the address first.
    if value is None:
        return None
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        return value  # --executor dask says how to install it
    try:
        protocol, location = parse_address(value)
        if protocol in ("tcp", "tls"):
            host, port = parse_host_port(location)
            if not host or not 0 < port < 65536:
                raise ValueError("expected tcp://HOST:PORT with a port from 1 to 65535")
    except (ValueError, TypeError) as error:
        raise click.BadParameter(f"{value!r} is not a scheduler address: {error}", ctx=ctx, param=param) from None
    return value


@main.command()
@click.argument("grid_file", required=False, type=cli_input.Path(dir_okay=False))
@click.option("--grid", "grid_options", multiple=True, metavar="KEY=V1,V2", callback=_parse_grid,
              help="A grid axis: run every value of KEY, any network-dict key (passed as --KEY VALUE, or "
                   "--set KEY=VALUE where the experiment has no --KEY). Repeat for more axes; "
                   "overrides an axis of the same name in GRID_FILE.")
@click.option("--prefix", default=None,
              help=f"The command each run starts with; the grid adds --KEY VALUE pairs and "
                   f"--output_dir. Default: the grid file's prefix, else '{DEFAULT_PREFIX}'.")
@click.option("--output", "output", default=DEFAULT_OUTPUT, show_default=True, type=cli_input.Path(file_okay=False),
              help="The sweep directory: one subdirectory per run, plus summarise.csv.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many commands run at once on this machine (local executor only).")
@click.option("--executor", "executor_kind", default="local", show_default=True,
              type=click.Choice(executors.EXECUTORS),
              help="local: a process pool on this machine; dask: the workers of --scheduler.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", callback=_check_scheduler,
              help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--retry_failed", "--retry-failed", "retry_failed", is_flag=True,
              help="Also run again the runs whose result says failed (completed ones are always skipped): "
                   "killed and timed-out runs continue from their last checkpoint, others start afresh.")
@click.option("--timeout", "timeout_s", default=None, type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              callback=_check_timeout,
              help="End a run that takes longer than this and record it as failed (reason timeout). "
                   "Default: no limit.")
@click.option("--dry_run", "--dry-run", "dry_run", is_flag=True, help="Print the commands of the grid and run nothing.")
@click.pass_context
def run(ctx, grid_file, grid_options, prefix, output, jobs, executor_kind, scheduler, retry_failed,
        timeout_s, dry_run):
    """Run every command of a grid that has not completed yet.

    The grid comes from GRID_FILE (.toml or .json), from --grid options, or both.
    Example: tuner run --grid type=BP,DFA --grid learning_rate=0.01,0.05 --output runs/lr
    """
    runs = _build_runs(grid_file, grid_options, prefix)
    if dry_run:
        for one in runs:
            click.echo(f"{one.run_id}  {one.command}")
        return
    if executor_kind == "local":
        _check_local_command(runs[0].prefix[0])
        if scheduler:
            raise click.UsageError("--scheduler only applies with --executor dask")
    elif ctx.get_parameter_source("jobs") is not ParameterSource.DEFAULT:
        raise click.UsageError("--jobs only applies to the local executor; Dask runs one command per worker thread")
    try:
        backend_context = executors.open_backend(executor_kind, output, jobs=jobs, scheduler=scheduler)
        if executor_kind == "local":
            _prepare_output(output)  # before the pool starts: its stop token lives in the sweep
        interrupt = threading.Event()
        # Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop the sweep cleanly: stop launching,
        # end the running commands, record none of them.
        stop = lambda signum, frame: interrupt.set()
        with handling((signal.SIGINT, *stop_signals()), stop), backend_context as backend:
            _prepare_output(output)  # (Dask's: once the scheduler answered)
            counts = run_sweep(runs, output, backend.executor, stop_token=backend.stop_token,
                               interrupt=interrupt, retry_failed=retry_failed, timeout_s=timeout_s,
                               echo=_say, warn=lambda message: _say(message, err=True))
    except (executors.BackendError, SweepBusy) as error:
        raise click.UsageError(cli_input.one_line(error)) from None
    except OSError as error:
        # The sweep directory was writable at the start (checked above): a disk that failed
        # mid-sweep. Finished runs keep their result.json; the same command resumes.
        message = f"Error: cannot write {describe_os_error(error)}; run the same command again to resume"
        click.echo(cli_input.one_line(message), err=True)
        ctx.exit(EXIT_FAILED)
    ctx.exit(counts.exit_code)


def _prepare_output(output):
    """The sweep directory exists and takes files, or the sweep does not start (exit 2)."""
    try:
        os.makedirs(output, exist_ok=True)
        check_writable(output)
    except OSError as error:
        raise click.BadParameter(cli_input.one_line(f"cannot create {describe_os_error(error)}"),
                                 param_hint="--output") from None
    except ZppMemError as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint="--output") from None


def _build_runs(grid_file, grid_options, prefix):
    file_prefix, file_params = None, []
    if grid_file is not None:
        try:
            file_prefix, file_params = load_grid_file(grid_file)
        except ValueError as error:
            raise click.BadParameter(cli_input.one_line(error), param_hint="GRID_FILE") from None
    if not file_params and not grid_options:
        raise click.UsageError("no grid: give a GRID_FILE or at least one --grid KEY=V1,V2")
    try:
        params = merge_params(file_params, list(grid_options))
    except ValueError as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint="--grid") from None
    try:
        return expand(prefix if prefix is not None else (file_prefix or DEFAULT_PREFIX), params)
    except GridKeyError as error:
        given = any(param.name == error.key for param in grid_options)
        raise click.BadParameter(cli_input.one_line(error), param_hint="--grid" if given else "GRID_FILE") from None
    except ValueError as error:
        raise click.BadParameter(cli_input.one_line(error), param_hint="--prefix") from None


def _check_local_command(program):
    # Only for the local executor: Dask workers may well have programs this machine lacks.
    if shutil.which(program) is None:
        raise click.BadParameter(f"{program!r} is not an executable or on PATH", param_hint="--prefix")


def _say(message, err=False):
    """Print a progress line; a terminal that hung up (EIO) or a closed pipe must not stop the
    sweep from ending its commands and recording what finished: the results are on disk."""
    try:
        click.echo(message, err=err)
    except OSError as error:
        if error.errno not in (errno.EIO, errno.EPIPE):
            raise


@main.command("summary")
@click.argument("sweep_dir", type=cli_input.Path(exists=True, file_okay=False))
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=0),
              help="How many of the best completed runs to print.")
@click.option("--group_by", "--group-by", "group_by", default=None, metavar="KEY",
              help="Also group the completed runs by every grid key but KEY (seed, say): mean and standard "
                   "deviation over KEY per group, printed and written to SWEEP_DIR/summarise_by_KEY.csv.")
def summary_command(sweep_dir, top, group_by):
    """Write SWEEP_DIR/summarise.csv (one row per run, best first) and print the best runs."""
    try:
        rows = summary.collect(sweep_dir)
        if not rows:
            raise click.UsageError(cli_input.one_line(
                f"no runs in {sweep_dir} (expected run directories with run.json or result.json)"))
        if group_by is not None:  # before anything is written or printed
            _check_group_key(rows, group_by)
        path, rows = summary.write_summary(sweep_dir)
    except OSError as error:
        raise click.BadParameter(cli_input.one_line(f"cannot write the summary: {describe_os_error(error)}"),
                                 param_hint="SWEEP_DIR") from None
    for line in summary.best_table(rows, top):
        click.echo(line)
    click.echo(f"summary: {path}")
    if group_by is not None:
        _grouped(sweep_dir, rows, group_by)


def _check_group_key(rows, key):
    from definitions.names import suggestion
    keys = sorted({name for row in rows for name in row["params"]})
    if key not in keys:
        raise click.BadParameter(cli_input.one_line(f"{key!r} is not a grid key of this sweep"
                                                    f"{suggestion(key, keys)}; its keys: {', '.join(keys)}"),
                                 param_hint="--group_by")


def _grouped(sweep_dir, rows, key):
    from definitions.files import atomic_write_text
    table = summary.aggregate(rows, key)
    path = os.path.join(sweep_dir, f"summarise_by_{key}.csv")
    try:
        atomic_write_text(path, summary.aggregate_csv(table, key))
    except OSError as error:
        raise click.BadParameter(cli_input.one_line(f"cannot write {describe_os_error(error)}"),
                                 param_hint="SWEEP_DIR") from None
    for line in summary.aggregate_lines(table, key):
        click.echo(line)
    click.echo(f"grouped: {path}")
