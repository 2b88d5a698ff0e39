"""A headless Chromium (the system's, driven by Playwright) that opens traces in the Perfetto UI
served by tracing/perfetto_ui.py and asks the UI's own trace processor SQL questions.

Where the browser or the packages are missing the tests are skipped with ENABLE, the command
that installs them (.ci/run runs it).
"""
import importlib.util
import shutil

import pytest

ENABLE = "apt-get install -y chromium && .venv/bin/pip install -e '.[browser]'"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Rows of a query as plain values (the engine gives BigInt for integer columns).
QUERY_JS = """async (sql) => {
  const result = await window.app.trace.engine.query(sql);
  const columns = result.columns(), rows = [];
  for (const it = result.iter({}); it.valid(); it.next()) {
    const row = {};
    for (const column of columns) {
      const value = it.get(column);
      row[column] = typeof value === 'bigint' ? Number(value) : value;
    }
    rows.push(row);
  }
  return rows;
}"""


def browser_or_skip():
    """(executable, what is missing): skip the module unless all is there."""
    missing = [name for name in ("playwright", "viztracer") if importlib.util.find_spec(name) is None]
    executable = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if executable is None:
        missing.append("a Chromium browser")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: {ENABLE}", allow_module_level=True)
    return executable


class PerfettoPage:
    """One browser page; `open(trace)` serves the trace and loads the UI on it."""

    def __init__(self, page):
        self.page = page
        self.server = None

    def open(self, trace):
        from tracing.perfetto_ui import TraceServer
        self.close_server()
        self.server = TraceServer(trace).start()
        self.page.goto(self.server.url)
        # window.app.trace exists once the trace processor has the trace; the UI is done with
        # its plugins and has drawn the tracks when it no longer says it is loading.
        self.page.wait_for_function("() => window.app && window.app.trace && window.app.trace.engine"
                                    " && !window.app.isLoadingTrace && document.querySelector('.pf-track')",
                                    timeout=120_000)

    def query(self, sql):
        return self.page.evaluate(QUERY_JS, sql)

    def screenshot(self, path):
        """Every process expanded (several runs start collapsed), then the page as a PNG."""
        expand = self.page.locator("button[title='Expand all']")
        if expand.count():
            expand.first.click()
        self.page.wait_for_timeout(500)  # the tracks are drawn on the next animation frames
        self.page.screenshot(path=str(path))

    def close_server(self):
        if self.server is not None:
            self.server.close()
            self.server = None
