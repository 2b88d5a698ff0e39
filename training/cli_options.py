"""What `experiment` and `experiment plan` share: the network options and how --set merges with them."""
import json

import click

from definitions import cli_input
from definitions.config import COST_FUNCTIONS, DATASETS, OPTIMIZERS, TRAINING_TYPES, field_help, validate
from definitions.errors import ConfigError


def _override(name, type_, help_text=None):
    return click.option(f"--{name}", name, type=type_, default=None,
                        help=(help_text or field_help()[name]) + " [default: from the network dict]")


def network_options(with_type):
    """--name, one option per common network-dict key (--type too when with_type) and --set."""
    def decorate(function):
        decorators = [
            click.option("--name", default="default_network", show_default=True,
                         help="Network dict: a shipped one (definitions/networks.py) or one of --definitions."),
            click.option("--definitions", multiple=True, metavar="FILE.py",
                         type=cli_input.Path(exists=True, dir_okay=False),
                         help="Your own Python file: its functions of output_size are sequences, its dicts "
                              "networks. Repeatable."),
            *([_override("type", cli_input.Choice(TRAINING_TYPES, case_sensitive=False), "Training algorithm.")]
              if with_type else []),
            _override("learning_rate", float),
            _override("batch_size", int),
            _override("epochs", int),
            _override("cost_function", cli_input.Choice(COST_FUNCTIONS)),
            _override("optimizer", cli_input.Choice(OPTIMIZERS)),
            _override("momentum", float),
            _override("dataset_name", cli_input.Choice(DATASETS)),
            _override("sequence", str),
            _override("seed", int),
            _override("memory_only", cli_input.BOOL),
            _override("gather_stats", cli_input.BOOL),
            _override("save_graph", cli_input.BOOL),
            _override("save_model", cli_input.BOOL),
            _override("checkpoint_every", int),
            _override("checkpoint_steps", int),
            *([_override("keep_checkpoints", int)] if with_type else []),
            _override("checkpoint_plan", str),
            _override("memory_budget", str),
            _override("budget_profile", str),
            click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                         help="Set any network-dict key, e.g. --set memory_warmup=5 --set 'minimum_accuracy=[[1, 50]]' "
                              "(VALUE is JSON, else a string). Repeatable."),
        ]
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return decorate


def given_options(overrides):
    """The network-dict options the user gave (click leaves the others None, or () if repeatable),
    --type upper-cased."""
    given = {key: value for key, value in overrides.items() if value is not None and value != ()}
    if given.get("type"):
        given["type"] = given["type"].upper()
    return given


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


def network_config(name, values):
    """The network dict `name` with `values` (merge_settings' dict) applied, validated.

    The files of `definitions` are loaded first: --name may be a network of theirs.
    """
    from definitions.registry import get_network
    from training.run import resolve_config
    load_definitions(values)
    return resolve_config(get_network(name), name, values)


def load_definitions(values):
    """Load the files of the `definitions` in `values`, if any: their names become known."""
    if "definitions" in values:
        _checked("definitions", values["definitions"])


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
    if isinstance(value, tuple):  # a repeatable option
        return " ".join(map(str, value))
    return json.dumps(value) if isinstance(value, bool) else str(value)


