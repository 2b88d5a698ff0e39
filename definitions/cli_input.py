"""Click helpers for hostile input: a path type that refuses what no file system takes, and
error messages that stay on one line whatever the user typed.

click.Path lets an empty path through (os.stat("") is just "missing"), and a path with a NUL
makes os.stat raise ValueError, which click does not catch: a traceback instead of exit 2.
"""
import click


class Path(click.Path):
    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value:
            self.fail("an empty path is not a path", param, ctx)
        if isinstance(value, str) and "\0" in value:
            self.fail(f"{value!r} contains a NUL character", param, ctx)
        return super().convert(value, param, ctx)


def one_line(text, keep=""):
    """`text` with its control characters (a newline in a file name, say) written as escapes."""
    return "".join(char if char.isprintable() or char in keep else repr(char)[1:-1] for char in str(text))


def snake_case(option):
    """`output-dir` -> `output_dir`: click normalises option names with it (`SPELLING`), so both
    spellings of a multi-word option reach the same parameter while help shows the snake_case one,
    the spelling of the network-dict keys."""
    return option.replace("-", "_")


#: context_settings of a command that accepts --output-dir for --output_dir.
SPELLING = {"token_normalize_func": snake_case}


class Choice(click.Choice):
    """click.Choice whose refusal names the closest choice: `--type MEMDFA` suggests DFAMEM."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            from definitions.names import suggestion
            known = [str(choice) for choice in self.choices]
            typed = str(value).upper() if not self.case_sensitive else str(value)
            pool = [k.upper() for k in known] if not self.case_sensitive else known
            # The same letters in another order (MEMDFA for DFAMEM) beat difflib's closest.
            same = [k for k, p in zip(known, pool) if sorted(p) == sorted(typed)]
            near = f" (did you mean {same[0]!r}?)" if same else suggestion(typed, pool)
            self.fail(f"{value!r} is not one of {', '.join(known)}{near}", param, ctx)


class Bool(click.types.BoolParamType):
    """click.BOOL whose refusal lists the values a user types (click's list starts with '')."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            states = sorted(state for state in self.bool_states if state)
            self.fail(f"{value!r} is not a valid boolean; use one of {', '.join(states)}", param, ctx)


BOOL = Bool()

#: Exit codes shared by every command (README, "Exit codes").
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class OneLineErrors:
    """A click command whose usage errors are one `Error:` line (exit 2), not click's three lines
    (Usage, Try, Error), and whose Ctrl-C outside a run's own handling exits 130, not 1 with
    `Aborted!`. Mixed into click.Command or click.Group; CliRunner goes through main() too."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import sys
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            click.echo(one_line(f"Error: {error.format_message()}"), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except (click.Abort, KeyboardInterrupt, EOFError):
            try:
                click.echo("\ninterrupted", err=True)
            except OSError:  # the terminal is gone (a hangup): still exit as interrupted
                pass
            sys.exit(EXIT_INTERRUPTED)
        # Without standalone mode click returns ctx.exit's code (or the callback's None).
        sys.exit(returned if isinstance(returned, int) else 0)


class Command(OneLineErrors, click.Command):
    pass


class Group(OneLineErrors, click.Group):
    pass
