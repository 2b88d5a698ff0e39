"""The browser tests' skip: where Chromium or the `browser` extra is missing, the tests are
skipped with the command that installs them (.ci/run runs it)."""
import pytest

from tracing.perfetto_browser import ENABLE, missing


def browser_or_skip():
    absent = missing()
    if absent:
        pytest.skip(f"needs {', '.join(absent)}: {ENABLE}", allow_module_level=True)
