"""`experiment compare --trace`: several runs' trace.json as one trace, a process per run."""
import json

import pytest
from click.testing import CliRunner

from tests.tracing import handmade_step as step
from tests.tracing.chrome_trace_checks import read_trace, slice_counts
from tracing.chrome_trace import STEP_COUNTER, TOTAL_COUNTER
from tracing.compare import compare_command
from tracing.records import AllocationRecord
from tracing.report import write_memory_report

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

GPU = "/job:localhost/replica:0/task:0/device:GPU:0"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    summaries = {
        "bp": write_memory_report(step.records(), root / "bp" / "memory", node_stats=step.node_stats(),
                                  meta={"network": "default_network", "sequence": "long_fc", "algorithm": "BP",
                                        "batch_size": 100}, persistent_bytes=100),
        # A run on two devices: the GPU's buffers come and go before the CPU's peak.
        "dfa": write_memory_report(
            step.records() + [AllocationRecord(step.T0 + 5, 1000, "forward/x", GPU, "GPU_0_bfc"),
                              AllocationRecord(step.T0 + 9, -1000, "forward/x", GPU, "GPU_0_bfc")],
            root / "dfa" / "memory", meta={"network": "default_network", "sequence": "long_fc", "algorithm": "DFA",
                                           "batch_size": 100}, persistent_bytes=50),
    }
    return root, summaries


def _compare(root, out, *names, extra=()):
    return CliRunner().invoke(compare_command, [*(str(root / name) for name in names), "-o", str(out / "fig.png"),
                                                "--trace", str(out / "both.json"), *extra])


def test_two_runs_are_two_processes_named_after_the_runs(runs, tmp_path):
    root, summaries = runs
    result = _compare(root, tmp_path, "bp", "dfa")
    assert result.exit_code == 0, result.output
    assert f"trace: {tmp_path / 'both.json'}" in result.output
    merged = read_trace(tmp_path / "both.json")
    pids = {name: pid for pid, name in merged.process_names.items()}
    assert list(pids) == ["default_network, long_fc, BP, batch 100", "default_network, long_fc, DFA, batch 100"]
    bp, dfa = pids.values()
    for name, pid in (("bp", bp), ("dfa", dfa)):
        own = read_trace(root / name / "memory" / "trace.json")
        assert slice_counts(merged, pid) == slice_counts(own) and sum(slice_counts(own).values()) > 0
        assert [event["args"]["op"] for event in merged.instants if event["pid"] == pid] == \
            [summaries[name]["peak_op"]]
    assert merged.counter_max(bp, f"{STEP_COUNTER} bytes") == summaries["bp"]["peak_bytes"]
    assert merged.counter_max(bp, f"{TOTAL_COUNTER} bytes") == summaries["bp"]["peak_total_bytes"]
    # The two-device run: its counters and threads say their device.
    assert merged.counter_max(dfa, f"GPU_0 {STEP_COUNTER} bytes") == summaries["dfa"]["peak_bytes"] == 1000
    assert merged.counter_max(dfa, f"CPU_0 {STEP_COUNTER} bytes") == step.PEAK_BYTES
    assert merged.counter_max(dfa, f"GPU_0 {TOTAL_COUNTER} bytes") == 1050
    dfa_threads = {merged.thread_names[event["tid"]] for event in merged.slices if event["pid"] == dfa}
    assert dfa_threads == {"CPU_0 thread 0", "GPU_0 thread 0"}


def test_the_steps_start_together(runs, tmp_path):
    root, _ = runs
    assert _compare(root, tmp_path, "bp", "dfa").exit_code == 0
    merged = read_trace(tmp_path / "both.json")
    firsts = {}
    for event in merged.slices:
        firsts[event["pid"]] = min(firsts.get(event["pid"], event["ts"]), event["ts"])
    assert set(firsts.values()) == {0}


def test_a_run_without_trace_json_is_refused_and_nothing_is_written(runs, tmp_path):
    root, _ = runs
    old = tmp_path / "old"
    write_memory_report(step.records(), old / "memory")
    (old / "memory" / "trace.json").unlink()  # as traced before trace.json existed
    result = CliRunner().invoke(compare_command, [str(root / "bp"), str(old), "-o", str(tmp_path / "fig.png"),
                                                  "--trace", str(tmp_path / "both.json")])
    assert result.exit_code == 2 and "trace.json" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "fig.png").exists() and not (tmp_path / "both.json").exists()
    # Without --trace the same runs compare.
    assert CliRunner().invoke(compare_command, [str(root / "bp"), str(old), "-o", str(tmp_path / "fig.png")]) \
        .exit_code == 0


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"traceEvents": [{"ph": "X"}]})])
def test_a_corrupt_trace_json_is_one_error_line(runs, tmp_path, text):
    root, _ = runs
    bad = tmp_path / "bad"
    write_memory_report(step.records(), bad / "memory")
    (bad / "memory" / "trace.json").write_text(text)
    result = CliRunner().invoke(compare_command, [str(bad), "-o", str(tmp_path / "fig.png"),
                                                  "--trace", str(tmp_path / "both.json")])
    assert result.exit_code == 2 and "trace.json" in result.output, result.output
    assert not (tmp_path / "both.json").exists()


def test_the_trace_cannot_be_the_figure(runs, tmp_path):
    root, _ = runs
    result = CliRunner().invoke(compare_command, [str(root / "bp"), "-o", str(tmp_path / "x"),
                                                  "--trace", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--trace" in result.output
    assert not (tmp_path / "x").exists()


def test_an_unwritable_trace_path_names_the_option(runs, tmp_path):
    root, _ = runs
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(compare_command, [str(root / "bp"), "-o", str(tmp_path / "fig.png"),
                                                  "--trace", str(tmp_path / "file" / "t.json")])
    assert result.exit_code == 2 and "'--trace'" in result.output and "Traceback" not in result.output
