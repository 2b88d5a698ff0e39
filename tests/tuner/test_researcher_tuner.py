"""The tuner as a newcomer used it (issue "A researcher's day", items 9-10): the default prefix
works from any directory, and a grid's values are checked before anything starts."""
import pytest
from click.testing import CliRunner

from tests.tuner.conftest import runs_line
from tuner.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_default_prefix_runs_the_experiment_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the checkout: `python experiment.py` is not here
    result = invoke("run", "--grid", "epochs=1", "--grid", "batch_size=32", "--jobs", "1", "--output", "sweep")
    assert result.exit_code == 0, result.output
    assert runs_line(result.output) == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed"


@pytest.mark.parametrize("grid, words", [
    ("type=BP,DFAM", ["'DFAM'", "'type'"]),
    ("memory_warmup=1,x", ["'x'", "memory_warmup"]),
    ("learning_rate=0.1,-1", ["'-1'", "learning_rate"]),
    ("memory_only=true,maybe", ["'maybe'", "memory_only"]),
])
def test_every_grid_value_is_checked_before_launch(tmp_path, grid, words):
    out = tmp_path / "sweep"
    result = invoke("run", "--grid", grid, "--output", str(out))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert all(word in lines[0] for word in words), lines[0]
    assert not any(path.name != "sweep" for path in tmp_path.iterdir())
    assert not out.exists() or not any(out.iterdir())  # nothing was started


def test_valid_grid_values_pass(tmp_path):
    result = invoke("run", "--grid", "type=bp,DFA", "--grid", "memory_only=true", "--grid", "segment_size=2",
                    "--output", str(tmp_path / "sweep"), "--dry_run")
    assert result.exit_code == 0, result.output
