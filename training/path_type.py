"""A click path parameter that refuses the paths no file system takes.

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
