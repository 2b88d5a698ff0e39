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
