import json

import pytest
from click.testing import CliRunner

from tests.tracing import handmade_step as step
from tests.tracing.report_checks import check_png
from tracing.compare import compare_command, compare_runs
from tracing.plots import COMPARE_FIGURE_SIZE
from tracing.records import AllocationRecord
from tracing.report import write_memory_report


def _halved(records):
    # The same step with every buffer half the size: a peak of 202.
    return [AllocationRecord(r.time_us, r.delta_bytes // 2, r.op_name, r.device, r.allocator) for r in records]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_memory_report(step.records(), root / "bp" / "memory", meta={"network": "mlp", "algorithm": "BP"},
                        persistent_bytes=100)
    write_memory_report(_halved(step.records()), root / "dfa" / "memory", meta={"network": "mlp", "algorithm": "DFA"},
                        persistent_bytes=100)
    # default_network's own sequence is fcTanh: the other three are named in the legend.
    for sequence in ("fcTanh", "fcReLu", "fcSigmoid", "long_fc"):
        write_memory_report(step.records(), root / sequence / "memory", meta={
            "network": "default_network", "sequence": sequence, "algorithm": "DFA", "batch_size": 100})
    return root


def test_table_has_peaks_and_ratios_to_the_first_run(runs, tmp_path):
    table = compare_runs([runs / "bp", runs / "dfa"], tmp_path / "fig.png")
    lines = table.splitlines()
    assert lines[0].split() == ["run", "network", "sequence", "algorithm", "batch_size", "peak_MiB",
                                "persistent_MiB", "peak_ratio", "total_ratio"]
    # Summaries that do not say (written before the sequence was recorded) show a dash.
    assert lines[1].split() == ["bp", "mlp", "-", "BP", "-", "0.00", "0.00", "1.000", "1.000"]
    assert lines[2].split() == ["dfa", "mlp", "-", "DFA", "-", "0.00", "0.00", f"{202 / 404:.3f}", f"{302 / 504:.3f}"]
    check_png(tmp_path / "fig.png", COMPARE_FIGURE_SIZE)


def test_runs_of_one_network_with_different_sequences_are_told_apart(runs, tmp_path):
    from tracing.compare import legend_labels, load_run
    sequences = ("fcTanh", "fcReLu", "fcSigmoid", "long_fc")
    labels = legend_labels([load_run(runs / sequence) for sequence in sequences])
    assert labels == ["default_network, DFA, batch 100, peak 404 bytes",
                      "default_network, fcReLu, DFA, batch 100, peak 404 bytes",
                      "default_network, fcSigmoid, DFA, batch 100, peak 404 bytes",
                      "default_network, long_fc, DFA, batch 100, peak 404 bytes"]
    table = compare_runs([runs / sequence for sequence in sequences], tmp_path / "fig.png").splitlines()
    assert [line.split()[1:5] for line in table[1:5]] == [
        ["default_network", sequence, "DFA", "100"] for sequence in sequences]


def test_cli_writes_png_and_prints_table(runs, tmp_path):
    out = tmp_path / "cmp.png"
    result = CliRunner().invoke(compare_command, [str(runs / "bp"), str(runs / "dfa"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "0.500" in result.output and "DFA" in result.output
    check_png(out, COMPARE_FIGURE_SIZE)


def test_cli_accepts_a_memory_directory_itself(runs, tmp_path):
    result = CliRunner().invoke(compare_command, [str(runs / "dfa" / "memory"), "-o", str(tmp_path / "one.png")])
    assert result.exit_code == 0, result.output


def test_cli_exit_2_when_a_run_has_no_memory_summary(runs, tmp_path):
    empty = tmp_path / "not_traced"
    empty.mkdir()
    result = CliRunner().invoke(compare_command, [str(runs / "bp"), str(empty), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert "memory/summary.json" in result.output and "not_traced" in result.output
    assert not (tmp_path / "x.png").exists()


def test_cli_exit_2_for_missing_dir_and_for_no_dir(tmp_path):
    assert CliRunner().invoke(compare_command, [str(tmp_path / "nope")]).exit_code == 2
    assert CliRunner().invoke(compare_command, []).exit_code == 2


def test_cli_exit_2_for_a_corrupt_summary(runs, tmp_path):
    bad = tmp_path / "bad" / "memory"
    bad.mkdir(parents=True)
    (bad / "summary.json").write_text("{not json")
    (bad / "timeline.txt").write_text("")
    result = CliRunner().invoke(compare_command, [str(tmp_path / "bad"), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2


def test_every_option_has_help():
    for param in compare_command.params:
        if param.param_type_name == "option":
            assert param.help, param.name
    assert "RUN_DIR" in CliRunner().invoke(compare_command, ["--help"]).output


def test_duplicate_names_get_their_directory_in_the_legend(runs, tmp_path):
    from tracing.compare import legend_labels, load_run
    labels = legend_labels([load_run(runs / "bp"), load_run(runs / "bp")])
    assert labels[0] == "mlp, BP (bp), peak 404 bytes"
    assert legend_labels([load_run(runs / "bp"), load_run(runs / "dfa")])[0] == "mlp, BP, peak 404 bytes"
    json.loads((runs / "bp" / "memory" / "summary.json").read_text())
