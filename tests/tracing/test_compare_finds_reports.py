"""`experiment compare` finds the report where a run keeps it (issue "A researcher's day", item 7):
a gather_stats run's memory/iteration_N/, a sweep's directory holding one run; several runs below
a directory are named, not "pass the run's directory"."""
import pytest

from tests.tracing import handmade_step as step
from tracing.compare import MemoryReportError, memory_dir_of
from tracing.report import write_memory_report


def _report(directory):
    write_memory_report(step.records(), directory, meta={"network": "mlp", "algorithm": "BP"})


def test_a_gather_stats_run_compares_its_last_traced_iteration(tmp_path):
    for iteration in (100, 20, 300):  # by number, not by name: 300 after 20 and 100
        _report(tmp_path / "run" / "memory" / f"iteration_{iteration}")
    assert memory_dir_of(str(tmp_path / "run")) == str(tmp_path / "run" / "memory" / "iteration_300")


def test_a_directory_with_one_run_below_it_compares_that_run(tmp_path):
    _report(tmp_path / "sweep" / "default_network_BP_001" / "memory")
    assert memory_dir_of(str(tmp_path / "sweep")) == str(tmp_path / "sweep" / "default_network_BP_001" / "memory")


def test_a_sweep_with_several_runs_names_them(tmp_path):
    for name in ("a", "b"):
        _report(tmp_path / "sweep" / name / "memory")
    with pytest.raises(MemoryReportError, match="holds 2 memory reports") as raised:
        memory_dir_of(str(tmp_path / "sweep"))
    assert str(tmp_path / "sweep" / "a" / "memory") in str(raised.value)
