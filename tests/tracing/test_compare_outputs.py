"""`experiment compare` as researchers asked (issue "A researcher's day", item 19): the format from
the file's extension, the table in bytes with --csv, a warning when runs differ in batch size or
dataset, the curves on their persistent memory with --persistent."""
import csv

import pytest
from click.testing import CliRunner

from tests.tracing import handmade_step as step
from tracing.compare import compare_command
from tracing.report import write_memory_report


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, batch, persistent in (("a", 10, 100), ("b", 20, 3000)):
        write_memory_report(step.records(), root / name / "memory", persistent_bytes=persistent,
                            meta={"network": "mlp", "algorithm": "BP", "batch_size": batch, "dataset": "digits"})
    return root


@pytest.mark.parametrize("name, magic", [("cmp.pdf", b"%PDF"), ("cmp.svg", b"<?xml"), ("cmp.png", b"\x89PNG")])
def test_the_extension_is_the_format(runs, tmp_path, name, magic):
    result = CliRunner().invoke(compare_command, [str(runs / "a"), "-o", str(tmp_path / name)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_an_unknown_extension_is_refused_before_work(runs, tmp_path):
    result = CliRunner().invoke(compare_command, [str(runs / "a"), "-o", str(tmp_path / "cmp.jpgg")])
    assert result.exit_code == 2 and ".pdf" in result.output and not (tmp_path / "cmp.jpgg").exists()


def test_csv_has_bytes_and_different_batches_are_warned(runs, tmp_path):
    result = CliRunner().invoke(compare_command, [str(runs / "a"), str(runs / "b"), "-o", str(tmp_path / "c.png"),
                                                  "--csv", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1 and "batch size (10, 20)" in warnings[0]
    rows = list(csv.DictReader(open(tmp_path / "c.csv")))
    assert [(row["peak_bytes"], row["persistent_bytes"]) for row in rows] == [("404", "100"), ("404", "3000")]


def test_persistent_draws_another_figure(runs, tmp_path):
    plain, total = tmp_path / "plain.svg", tmp_path / "total.svg"
    for path, extra in ((plain, []), (total, ["--persistent"])):
        assert CliRunner().invoke(compare_command, [str(runs / "b"), "-o", str(path), *extra]).exit_code == 0
    # The y axis says what it shows; the SVG keeps its text.
    assert "persistent" not in plain.read_text() and "persistent" in total.read_text()
