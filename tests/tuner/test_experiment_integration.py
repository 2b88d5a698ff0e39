"""The issue's acceptance on the real experiment: a 2x2 grid of one-epoch digits runs.

Skipped until experiment.py exists at the repository root. About 20-40 s on two cores.
"""
import csv
import os
import shlex
import sys

import pytest
from click.testing import CliRunner

from tests.tuner.conftest import REPO, runs_line
from tuner.cli import main

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(REPO, "experiment.py")),
                                reason="experiment.py is not at the repository root yet")


def test_acceptance_grid_resumes_exactly_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    out = str(tmp_path / "sweep")
    args = ["run", "--prefix", shlex.join([sys.executable, "experiment.py"]),
            "--grid", "learning_rate=0.05,0.1", "--grid", "batch_size=10,20", "--grid", "epochs=1",
            "--jobs", "2", "--output", out]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert runs_line(result.output) == "runs: 4 total, 4 completed now, 0 skipped (already complete), 0 failed", \
        result.output
    assert result.exit_code == 0

    run_dirs = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)) and not d.startswith('.'))
    os.remove(os.path.join(out, run_dirs[0], "result.json"))
    with open(os.path.join(out, run_dirs[1], "result.json"), "r+") as handle:
        handle.truncate(20)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert runs_line(result.output) == "runs: 4 total, 2 completed now, 2 skipped (already complete), 0 failed", \
        result.output

    rows = list(csv.DictReader(open(os.path.join(out, "summarise.csv"))))
    assert len(rows) == 4
    assert all(row["status"] == "completed" and float(row["accuracy"]) > 0 for row in rows)
    assert {"learning_rate", "batch_size", "epochs", "accuracy", "loss", "duration_s"} <= set(rows[0])
