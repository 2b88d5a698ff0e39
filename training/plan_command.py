"""`experiment plan`: what a run will cost in memory, before it runs.

    experiment plan --name vgg_16 --batch_size 64                    one row per type
    experiment plan --name vgg_16 --budget 2GiB                      does it fit; the largest batch that does
    experiment plan --name vgg_16 --batch_sizes 4,8,16,32 --png p.png  memory against batch size
    experiment plan ... --verify --csv plan.csv                      traced figures beside the predictions

The predictions come from planning/ (shapes only: no data, no training step); --verify traces
each row (training/memory_check.py). Exit codes: 0, or 2 for bad input (one `Error:` line).
"""
import click

from definitions import cli_input
from definitions.config import TRAINING_TYPES
from definitions.errors import ConfigError, ZppMemError
from definitions.files import check_output_file
from definitions.names import suggestion
from training.cli_options import given_options, merge_settings, network_config, network_options

EXIT_BAD_INPUT = 2


@click.command("plan", cls=cli_input.Command, context_settings=cli_input.SPELLING)
@network_options(with_type=False)
@click.option("--types", default=",".join(TRAINING_TYPES), show_default=True, metavar="T1,T2",
              help="The training types to predict, comma-separated.")
@click.option("--budget", default=None, metavar="SIZE",
              help="A memory budget (512MiB, 2GiB, 1.5GB or bytes): does each type fit at the batch size, and "
                   "the largest batch size whose predicted total (transient peak + persistent) fits.")
@click.option("--batch_sizes", default=None, metavar="B1,B2",
              help="Predict these batch sizes (a table, and a PNG with --png) instead of the network's one.")
@click.option("--png", default=None, type=cli_input.Path(dir_okay=False),
              help="With --batch_sizes: write the figure of memory against batch size here.")
@click.option("--log", "log_scale", is_flag=True, help="With --png: a logarithmic memory axis.")
@click.option("--csv", "csv_path", default=None, type=cli_input.Path(dir_okay=False),
              help="Also write the rows to this CSV file.")
@click.option("--verify", is_flag=True,
              help="Also trace each row (warm-up, then the median of 3 traced steps) and print the measured "
                   "figures and the relative errors.")
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Intra-op threads the run will use [default: one per CPU core, as a run does].")
@click.pass_context
def plan_command(ctx, name, settings, types, budget, batch_sizes, png, log_scale, csv_path, verify, threads,
                 **overrides):
    """Predict the memory of one training step of a network dict for each type, before running it."""
    try:
        types = parse_types(types)
        budget_bytes = None
        if budget is not None:
            from definitions.sizes import parse_size
            budget_bytes = parse_size(budget, "--budget")
        sizes = parse_batch_sizes(batch_sizes) if batch_sizes is not None else None
        if log_scale and png is None:
            raise ConfigError("--log scales the figure's memory axis: give --png (and --batch_sizes) too")
        if png is not None and sizes is None:
            raise ConfigError("--png draws memory against batch size: give --batch_sizes too")
        # Checked before the table (and with --verify its traces) is computed, not after.
        for option, path in (("--csv", csv_path), ("--png", png)):
            if path is not None:
                check_output_file(path, option)
        from training.quiet_import import import_tensorflow_quietly
        import_tensorflow_quietly()
        config = network_config(name, merge_settings(settings, given_options(overrides)))
        budget_bytes = _budget(budget_bytes, config)
        from definitions.datasets import check_batch_size
        if sizes is None:
            check_batch_size(config, config.batch_size)
        else:
            check_batch_size(config, max(sizes), what="--batch_sizes' largest")
        from training.plan_report import plan
        plan(config, types, sizes, budget_bytes, png, csv_path, verify, threads, echo=click.echo, log=log_scale,
             skip_refused=ctx.get_parameter_source("types") == click.core.ParameterSource.DEFAULT)
    except ZppMemError as error:
        click.echo(cli_input.one_line(f"Error: {error}"), err=True)
        ctx.exit(EXIT_BAD_INPUT)


def _budget(budget_bytes, config):
    """--budget, or the network's memory_budget (a run's budget is the plan's too); both must agree."""
    if config.memory_budget is None:
        if budget_bytes is None and config.budget_profile is not None:
            raise ConfigError("config key 'budget_profile' gives the budget planner measured block times: "
                              "give --budget too")
        return budget_bytes
    from definitions.sizes import parse_size
    configured = parse_size(config.memory_budget, "config key 'memory_budget'")
    if budget_bytes is not None and budget_bytes != configured:
        raise ConfigError(f"--budget ({budget_bytes} bytes) and config key 'memory_budget' ({config.memory_budget}) "
                          f"disagree: give one of them")
    return configured


def parse_types(text):
    types = [part.strip().upper() for part in str(text).split(",") if part.strip()]
    if not types:
        raise ConfigError("--types needs at least one training type")
    for kind in types:
        if kind not in TRAINING_TYPES:
            raise ConfigError(f"--types: unknown training type {kind!r}{suggestion(kind, list(TRAINING_TYPES))}; "
                              f"known: {', '.join(TRAINING_TYPES)}")
    return list(dict.fromkeys(types))


def parse_batch_sizes(text):
    sizes = []
    for part in str(text).split(","):
        try:
            size = int(part.strip())
        except ValueError:
            raise ConfigError(f"--batch_sizes must be positive integers separated by commas, got {text!r}") from None
        if size < 1:
            raise ConfigError(f"--batch_sizes must be positive integers, got {size}")
        sizes.append(size)
    return sorted(set(sizes))
