"""Bad input everywhere: every option and network-dict key of every command, fed hostile values.

Each case is one command line with one hostile value. Either the value is documented as valid,
or the command exits 2 with exactly one `Error:` line, no traceback and nothing written. A
valid value is not run where running could train or write outside the test's directory: then
the README must name a range holding it and the code's own check must accept it.

The valid ranges come from README.md (the `valid` column of the network-dict key table, the
run-id rule), so the README is what this test holds the code to. Another subcommand (such as
`experiment plan`) is one more Subcommand in SUBCOMMANDS; an option with no rule here fails the
collection of this file, so a new option cannot go untested.
"""
import dataclasses
import importlib
import json
import math
import os
import re
import shlex
import shutil
import sys

import click
import pytest
from click.testing import CliRunner

from definitions.config import TRAINING_TYPES, NetworkConfig, validate
from definitions.errors import ConfigError
from definitions.sizes import parse_size
from definitions.registry import get_network, network_names, sequence_names
from tests.tracing import handmade_step
from tracing.report import write_memory_report
from training.cli import main as experiment_main
from training.cli_options import parse_setting
from training.plan_command import parse_batch_sizes, parse_types
from training.run_dir import check_path, check_run_id
from tuner import state
from tuner.cli import main as tuner_main

README = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "README.md"),
              encoding="utf-8").read()
FAKE_EXPERIMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tuner", "fake_experiment.py")

HOSTILE = ("", " ", "0", "-1", "1.5", "1e3", "nan", "NaN", "inf", "-Infinity", "1e400", "9" * 40, "true", "null",
           "[]", "[1, 2]", '{"a": 1}', "[[1, 50]]", "../../escape", "/", "ünïcödé✓", "a\x00b", "line\nbreak",
           "x" * 300, "$$")
# Placeholders in a case's argv, replaced by paths when the case runs.
OUT, RUN, SWEEP, PREFIX = "<out>", "<memory run>", "<sweep>", "<fake experiment>"


# -- what the README documents as valid ----------------------------------------------------------

def readme_key_rules():
    """{key: the `valid` cell of its row} from the network-dict key table."""
    table = README[README.index("| key | default | valid | meaning |"):]
    rules = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for key in re.findall(r"`(\w+)`", cells[0]):
            rules[key] = cells[2]
    return rules


KEY_RULES = readme_key_rules()
_INTERVAL = r"([\[(])([-\d.^e]+), ([-\d.^e]+)([\])])"
BOOLEAN_WORDS = ("true", "false", "yes", "no", "1", "0")


def _number(text):
    # "2^31-1", "10^7", "0.5": the README's notation, evaluated without eval.
    total = 0
    for sign, term in re.findall(r"([+-]?)([^+-]+)", text):
        base, _, power = term.partition("^")
        total += (-1 if sign == "-" else 1) * float(base) ** (float(power) if power else 1)
    return total


def in_interval(value, interval, integer):
    low_bracket, low, high, high_bracket = interval
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        return False
    if not math.isfinite(value):
        return False
    low, high = _number(low), _number(high)
    above = value > low if low_bracket == "(" else value >= low
    return above and (value < high if high_bracket == ")" else value <= high)


def documented_key_value(key, value):
    """Whether the README's key table names `value` as valid for `key`."""
    rule = KEY_RULES[key]
    field_type = {f.name: f.type for f in dataclasses.fields(NetworkConfig)}[key]
    if rule.startswith("null or "):
        if value is None:
            return True
        rule = rule[len("null or "):]
    if rule == "true or false":
        return isinstance(value, bool) or (type(value) is int and value in (0, 1)) or \
            (isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS)
    if rule == "a path":
        return isinstance(value, str) and value != "" and "\0" not in value
    if rule == "a sequence's name (`experiment --list`) or `module:function`":
        return value in sequence_names() or importable_function(value)
    if rule == "a path of a Python file, or a list of them":
        paths = [value] if isinstance(value, str) else value
        return isinstance(paths, list) and all(isinstance(path, str) and python_file(path) for path in paths)
    if rule.startswith("a plan written as in "):
        return written_plan(value)
    if rule.startswith("a size: "):
        return documented_size(value)
    if key == "minimum_accuracy":
        epoch, percent = re.findall(_INTERVAL, rule)
        return isinstance(value, list) and all(
            isinstance(pair, list) and len(pair) == 2 and in_interval(pair[0], epoch, True)
            and in_interval(pair[1], percent, False) for pair in value)
    if key == "synthetic_shape":
        shortest, longest = map(int, re.match(r"(\d+) to (\d+) integers", rule).groups())
        [dimension] = re.findall(_INTERVAL, rule)
        return isinstance(value, list) and shortest <= len(value) <= longest and \
            all(in_interval(v, dimension, True) for v in value)
    interval = re.match(_INTERVAL, rule)
    if interval:
        return in_interval(value, interval.groups(), field_type is int)
    choices = re.findall(r"`([^`]+)`", rule)
    assert choices and rule == " ".join(f"`{c}`" for c in choices), f"no rule for {key!r}: {rule!r}"
    return value in choices


def importable_function(value):
    """README: `module:function`, a function of an importable module."""
    if not isinstance(value, str) or ":" not in value:
        return False
    module, _, function = value.partition(":")
    try:
        return callable(getattr(importlib.import_module(module), function, None))
    except (ImportError, ValueError, TypeError):
        return False


def python_file(path):
    """README: a path of a Python file (that compiles; running it is the accept's business)."""
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec")
    except (OSError, ValueError, SyntaxError):
        return False
    return True


def documented_size(value):
    """README: bytes, or a number and a unit (KB/MB/GB/TB powers of 1000, KiB/MiB/GiB/TiB of 1024,
    any case), at least one byte."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    number, unit = value, "b"
    if isinstance(value, str):
        match = re.fullmatch(r"\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,2})?)\s*([a-zA-Z]*)\s*", value)
        if not match:
            return False
        number, unit = float(match.group(1)), (match.group(2) or "b").lower()
    scale = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
             "tib": 2**40}.get(unit)
    return scale is not None and math.isfinite(number * scale) and 1 <= number * scale < 2**63


def written_plan(value):
    """README, Checkpointed BP: segment lengths (from 1) joined by `|`, a split segment in parentheses, spaces
    between the parts; an integer is a plan of one segment. (Whether it covers the sequence's blocks is the
    sequence's business: a case of its own below.)"""
    if type(value) is int:
        return value >= 1
    if not isinstance(value, str) or not re.fullmatch(r"(\s*([0-9]+|[|()]))+\s*", value):
        return False
    tokens = re.findall(r"[0-9]+|[|()]", value)
    if any(token.isdigit() and int(token) < 1 for token in tokens):
        return False
    shape = "".join("n" if token.isdigit() else token for token in tokens)
    while True:  # a parenthesised list of segments is one segment
        reduced = re.sub(r"\(n(\|n)*\)", "n", shape)
        if reduced == shape:
            return re.fullmatch(r"n(\|n)*", shape) is not None
        shape = reduced


def documented_run_id(value):
    """README: 'A run id is one directory name: 1 to N bytes of UTF-8, no / or \\, not . or .., no control
    characters'."""
    limit = int(re.search(r"A run id is one directory name: 1 to (\d+) bytes of UTF-8", README).group(1))
    return bool(value.strip()) and value not in (".", "..") and "/" not in value and "\\" not in value and \
        not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value) and len(value.encode("utf-8")) <= limit


# -- the rules: is a converted value valid, and what accepting it means ----------------------------

@dataclasses.dataclass(frozen=True)
class Rule:
    valid: object  # value -> bool: the README documents it as valid
    accept: object = None  # (value, text, paths) -> None: raises unless the code accepts it; may run the command


def never_valid(value):
    return False


def no_run(value, text, paths):
    """Documented valid and converted by the option's own type; running it could train or write outside."""


def key_rule(key):
    return Rule(lambda value: documented_key_value(key, value), lambda value, text, paths: validate({key: value}))


def runs_ok(cli, argv_for):
    """Cheap, and writes only inside the test's directory: run it, it must succeed."""
    def accept(value, text, paths):
        result = invoke(cli(), argv_for(text), paths)
        assert result.exit_code == 0, result.output
        return result
    return accept


def dry_run(argv_for):
    def accept(value, text, paths):
        result = runs_ok(lambda: tuner_main, lambda text: [*argv_for(text), "--dry_run"])(value, text, paths)
        assert all(state.name_problem(line.split()[0]) is None for line in result.output.splitlines())
    return accept


def executable_prefix(value):
    try:
        argv = shlex.split(value)
    except ValueError:
        return False
    return bool(argv) and "\0" not in value and shutil.which(argv[0]) is not None


def scheduler_address(value):
    match = re.fullmatch(r"(?:tcp://)?(\[[^\]]+\]|[^:/\s]+):(\d+)", value)
    return bool(match) and 0 < int(match.group(2)) < 65536


PATH = Rule(lambda value: value != "" and "\0" not in value, no_run)  # README: any non-empty path without a NUL
EXPERIMENT_RULES = {
    "name": Rule(lambda value: value in network_names(), lambda value, text, paths: get_network(value)),
    "run_id": Rule(documented_run_id, lambda value, text, paths: check_run_id(value)),
    "output_dir": Rule(PATH.valid, lambda value, text, paths: check_path("--output_dir", value)),
    "data_dir": Rule(PATH.valid, lambda value, text, paths: check_path("--data_dir", value)),
    "resume_dir": Rule(never_valid),  # no hostile value is a run directory
}
COMPARE_RULES = {
    "run_dirs": Rule(never_valid),  # none holds a memory report
    "output": PATH,
    "trace_path": PATH,
    "csv_path": PATH,
    "title": Rule(lambda value: True, runs_ok(lambda: experiment_main,
                                              lambda text: ["compare", RUN, "-o", OUT + "/fig.png", "--title", text])),
}


def size_text(value):
    """README: a size is 512MiB, 2GiB, 1.5GB or a number of bytes, positive."""
    try:
        parse_size(value)
    except ConfigError:
        return False
    return True


def comma_list(valid_item):
    def valid(value):
        parts = [part.strip() for part in str(value).split(",")]
        return bool(parts) and all(part and valid_item(part) for part in parts)
    return valid


PLAN_RULES = {
    "name": EXPERIMENT_RULES["name"],
    "types": Rule(comma_list(lambda part: part.upper() in TRAINING_TYPES),
                  lambda value, text, paths: parse_types(value)),
    "budget": Rule(size_text, lambda value, text, paths: parse_size(value)),
    "batch_sizes": Rule(comma_list(lambda part: part.isdigit() and int(part) >= 1),
                        lambda value, text, paths: parse_batch_sizes(value)),
    "png": PATH,
    "csv_path": PATH,
    "threads": Rule(lambda value: value >= 1, no_run),
}
TUNER_RUN_RULES = {
    "grid_file": Rule(never_valid),  # none is a grid file
    # Any value that --grid parses is a value: the experiment judges it (its own rules above).
    "grid_options": Rule(lambda value: True, dry_run(lambda text: ["run", "--grid", f"note={text}",
                                                                   "--prefix", PREFIX])),
    "prefix": Rule(executable_prefix, dry_run(lambda text: ["run", "--grid", "mode=ok", "--prefix", text])),
    "output": PATH,
    "jobs": Rule(lambda value: value >= 1, no_run),
    "executor_kind": Rule(lambda value: value in ("local", "dask"), no_run),
    "scheduler": Rule(scheduler_address, no_run),  # would connect to it
    "timeout_s": Rule(lambda value: math.isfinite(value) and value > 0, no_run),
}
TUNER_SUMMARY_RULES = {
    "sweep_dir": Rule(never_valid),  # none holds runs
    "top": Rule(lambda value: value >= 0, runs_ok(lambda: tuner_main, lambda text: ["summary", SWEEP, "--top", text])),
    "group_by": Rule(never_valid),  # none is a grid key of the test's sweep
}


# -- the subcommands and their cases ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Subcommand:
    name: str
    cli: click.Group
    words: tuple  # the words that select it: ("compare",)
    rules: dict  # param name -> Rule; network-dict keys need none
    defaults: dict  # param name -> its words in every case but its own (the valid rest of a command line)
    skip: tuple = ()  # params not fed values (flags; --set, covered key by key)
    place: dict = dataclasses.field(default_factory=dict)  # param name -> text -> the words that give it
    extra: dict = dataclasses.field(default_factory=dict)  # param name -> more words for its cases
    drop: dict = dataclasses.field(default_factory=dict)  # param name -> defaults left out of its cases

    @property
    def command(self):
        return self.cli.commands[self.words[0]] if self.words else self.cli

    def rest(self, param):
        left_out = {param, *self.drop.get(param, ())}
        return tuple(word for name, words in self.defaults.items() if name not in left_out for word in words) + \
            self.extra.get(param, ())


@dataclasses.dataclass(frozen=True)
class Case:
    command: str
    cli: click.Group
    argv: tuple
    valid: bool
    accept: object = None  # paths -> None, for a valid case

    def __str__(self):
        return f"{self.command} {' '.join(map(repr, self.argv))}"[:120]


SUBCOMMANDS = [
    Subcommand("experiment", experiment_main, (), EXPERIMENT_RULES, {"output_dir": ("--output_dir", OUT)},
               skip=("settings", "list_all"), extra={"data_dir": ("--dataset_name", "mnist")},
               drop={"resume_dir": ("output_dir",)}),  # --resume refuses --output_dir
    Subcommand("experiment compare", experiment_main, ("compare",), COMPARE_RULES,
               {"run_dirs": (RUN,), "output": ("-o", OUT + "/fig.png")}, skip=("persistent",)),
    Subcommand("tuner run", tuner_main, ("run",), TUNER_RUN_RULES,
               {"output": ("--output", OUT), "prefix": ("--prefix", PREFIX), "grid_options": ("--grid", "mode=ok")},
               skip=("retry_failed", "dry_run"),
               place={"grid_options": lambda text: ("--grid", f"note={text}"),
                      "scheduler": lambda text: ("--executor", "dask", "--scheduler", text)}),
    Subcommand("tuner summary", tuner_main, ("summary",), TUNER_SUMMARY_RULES, {"sweep_dir": (SWEEP,)}),
    Subcommand("experiment plan", experiment_main, ("plan",), PLAN_RULES, {}, skip=("settings", "verify", "log_scale"),
               extra={"png": ("--batch_sizes", "4,8")}),
]


def convert(param, command, text):
    """The value click makes of `text` for `param` (type, then callback), or a BadParameter."""
    ctx = click.Context(command)
    value = param.type_cast_value(ctx, (text,) if param.multiple or param.nargs == -1 else text)
    return param.process_value(ctx, value) if param.callback else value


def param_cases(sub):
    config_keys = {f.name for f in dataclasses.fields(NetworkConfig)}
    for param in sub.command.params:
        if param.name in sub.skip or param.name == "help" or getattr(param, "is_flag", False):
            continue
        rule = sub.rules.get(param.name) or (key_rule(param.name) if param.name in config_keys else None)
        assert rule is not None, f"{sub.name}: no rule for {param.name}: add one to this test"
        place = sub.place.get(param.name) or \
            (lambda text, p=param: (p.opts[0], text) if isinstance(p, click.Option) else (text,))
        for text in HOSTILE:
            words = place(text)
            try:
                value = convert(param, sub.command, words[-1])
            except (click.BadParameter, ValueError):  # a ValueError is run: it must be exit 2 too
                valid, value = False, None
            else:
                valid = rule.valid(value[0] if param.nargs == -1 else value)
            accept = (lambda paths, rule=rule, value=value, text=text: rule.accept(value, text, paths)) \
                if valid else None
            yield Case(sub.name, sub.cli, (*sub.words, *words, *sub.rest(param.name)), valid, accept)


def set_cases():
    """`experiment --set KEY=VALUE` for every network-dict key (but name, chosen by --name)."""
    for key in (f.name for f in dataclasses.fields(NetworkConfig) if f.name != "name"):
        for text in HOSTILE:
            value = parse_setting(f"{key}={text}")[1]
            valid = documented_key_value(key, value)
            accept = (lambda paths, key=key, value=value: validate({key: value})) if valid else None
            yield Case("experiment", experiment_main, ("--set", f"{key}={text}", "--output_dir", OUT), valid, accept)


# Values that pass each key's own check but not the data or another key: exit 2 before training.
def cross_case(*argv):
    return Case("experiment", experiment_main, (*argv, "--output_dir", OUT), False)


CROSS_CASES = [
    cross_case("--batch_size", "1438"),  # digits has 1437 training examples
    cross_case("--dataset_name", "synthetic", "--set", "synthetic_size=10000000"),
    cross_case("--dataset_name", "synthetic", "--set", "synthetic_shape=[4096, 4096, 3]"),
    cross_case("--dataset_name", "synthetic", "--set", "synthetic_shape=[100000]", "--set", "synthetic_classes=100000"),
    cross_case("--learning_rate", "0.1", "--set", "learning_rate=0.2"),
    cross_case("--set", "momentum=0.1", "--set", "momentum=0.2"),
    cross_case("--set", "name=other"),
    cross_case("--set", "learning_reate=0.1"),
    # BPCKPT's plan: malformed, covering the wrong number of blocks (default_network's fcTanh has 3), given to
    # another type, given with segment_size.
    cross_case("--type", "BPCKPT", "--set", "checkpoint_plan=(2|1"),
    cross_case("--type", "BPCKPT", "--checkpoint_plan", "2|2"),
    cross_case("--type", "BPCKPT", "--set", "checkpoint_plan=(1|1)|1|1"),
    cross_case("--type", "BP", "--checkpoint_plan", "2|1"),
    cross_case("--type", "BPCKPT", "--set", "segment_size=1", "--checkpoint_plan", "1|1|1"),
    Case("experiment plan", experiment_main, ("plan", "--checkpoint_plan", "(2|2"), False),
    Case("experiment plan", experiment_main, ("plan", "--checkpoint_plan", "1|1"), False),
    # A memory budget: not a size, for another type (a budget below every plan's need is found from the
    # built blocks, in the trainer: tests/training/test_memory_budget.py).
    cross_case("--type", "BPCKPT", "--memory_budget", "lots"),
    cross_case("--type", "DFAMEM", "--memory_budget", "1GiB"),
    Case("experiment plan", experiment_main, ("plan", "--memory_budget", "1MiB", "--budget", "2MiB"), False),
]
CASES = [case for sub in SUBCOMMANDS for case in param_cases(sub)] + list(set_cases()) + CROSS_CASES


# -- running a case -----------------------------------------------------------------------------------

class WouldTrain(BaseException):
    """Every check passed and training was about to start."""


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """A run with a memory report (for compare) and a sweep with one run (for summary)."""
    root = tmp_path_factory.mktemp("fixtures")
    write_memory_report(handmade_step.records(), root / "run" / "memory", meta={"network": "mlp", "algorithm": "BP"})
    run_dir = os.path.join(root, "sweep", "r1")
    os.makedirs(run_dir)
    state.write_run_spec(run_dir, "r1", "python experiment.py", {"type": "BP"})
    return {RUN: str(root / "run"), SWEEP: str(root / "sweep"),
            PREFIX: shlex.join([sys.executable, FAKE_EXPERIMENT])}


def invoke(cli, argv, paths):
    return CliRunner().invoke(cli, [paths.get(arg, arg).replace(OUT, paths[OUT]) for arg in argv])


@pytest.fixture
def no_training(monkeypatch):
    import training.trainer

    def trainer(*args, **kwargs):
        raise WouldTrain()
    monkeypatch.setattr(training.trainer, "Trainer", trainer)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_value(case, fixtures, tmp_path, monkeypatch, no_training):
    work = tmp_path / "cwd"  # relative paths land here, never in the repository
    work.mkdir()
    monkeypatch.chdir(work)
    paths = {**fixtures, OUT: str(tmp_path / "out")}
    if case.valid:
        case.accept(paths)
        return
    result = invoke(case.cli, case.argv, paths)
    assert not isinstance(result.exception, WouldTrain), "every check passed: this value would train"
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert all(line in errors or line.startswith(("Usage: ", "Try ")) for line in lines), result.output
    assert not os.path.exists(tmp_path / "out") and not os.listdir(work)  # nothing written


def test_every_key_has_a_documented_range():
    assert set(KEY_RULES) >= {f.name for f in dataclasses.fields(NetworkConfig)} - {"name"}


def test_the_table_covers_every_option():
    commands = {case.command for case in CASES}
    assert commands == {sub.name for sub in SUBCOMMANDS}
    assert sum(case.valid for case in CASES) > 50 and sum(not case.valid for case in CASES) > 500
