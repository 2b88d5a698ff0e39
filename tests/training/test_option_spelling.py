"""One spelling rule for `experiment`, `experiment plan` and `experiment compare`: a multi-word
option is written with underscores, as the network-dict keys are (`--output_dir`), and the
hyphenated spelling (`--output-dir`) is the same option. The cases come from the commands'
own click parameters, so an option added later is covered without touching this file."""
import click
import pytest

from training.cli import main

COMMANDS = {"experiment": (), "experiment plan": ("plan",), "experiment compare": ("compare",)}


def multi_word_options():
    for label, words in COMMANDS.items():
        command = main.commands[words[0]] if words else main
        for param in command.params:
            if isinstance(param, click.Option):
                for option in param.opts:
                    if option.startswith("--") and ("_" in option[2:] or "-" in option[2:]):
                        yield pytest.param(words, param, option, id=f"{label} {option}")


CASES = list(multi_word_options())


def sample(param, tmp_path):
    """A valid command-line text for `param`, or None for a flag."""
    kind = param.type
    if param.is_flag:
        return None
    if isinstance(kind, click.Choice):
        return kind.choices[-1]
    if isinstance(kind, click.Path):
        if not kind.exists:
            return str(tmp_path / "new_path")
        if kind.file_okay and not kind.dir_okay:
            (tmp_path / "file.py").write_text("")
            return str(tmp_path / "file.py")
        return str(tmp_path)
    if isinstance(kind, click.types.BoolParamType):  # click.BOOL or cli_input.BOOL
        return "true"
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "3"
    return "2|2"


def parse(words, args, tmp_path):
    """The context click makes of `args`, through the parent `experiment` as a user reaches the command."""
    parent = main.make_context("experiment", [])
    if not words:
        return main.make_context("experiment", list(args))
    command = main.commands[words[0]]
    required = [str(tmp_path) for param in command.params if isinstance(param, click.Argument) and param.required]
    return command.make_context(words[0], [*required, *args], parent=parent)


def test_the_options_are_found():
    names = {case.values[2] for case in CASES}
    assert {"--output_dir", "--data_dir", "--learning_rate", "--batch_size", "--batch_sizes"} <= names


@pytest.mark.parametrize("words,param,option", CASES)
def test_both_spellings_are_the_same_option_and_help_shows_snake_case(words, param, option, tmp_path):
    snake, kebab = "--" + option[2:].replace("-", "_"), "--" + option[2:].replace("_", "-")
    assert option == snake, f"{option}: multi-word options are spelt with underscores"
    text = sample(param, tmp_path)
    contexts = [parse(words, [spelling] if text is None else [spelling, text], tmp_path) for spelling in (snake, kebab)]
    values = [context.params[param.name] for context in contexts]
    assert values[0] == values[1] and values[0] != param.get_default(contexts[0])
    help_text = contexts[0].command.get_help(contexts[0])
    assert snake in help_text and kebab not in help_text
