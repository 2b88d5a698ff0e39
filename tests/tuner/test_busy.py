"""A run whose experiment directory another process holds is reported busy and not launched."""
import shlex
import sys

import pytest
from click.testing import CliRunner

from tests.training.lock_holder import holding
from tests.tuner.conftest import runs_line
from tuner.cli import main
from tuner.grid import expand, sgen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")


def test_a_run_held_by_another_process_is_busy_not_failed_and_not_started(tmp_path):
    prefix = shlex.join([sys.executable, "experiment.py", "--name", "default_network"])
    (run,) = expand(prefix, [sgen("epochs", ["1"])])
    out = tmp_path / "sweep"
    # What an earlier attempt left: the experiment's directory, now trained by someone else
    # (an `experiment --resume` started by hand). Its config is never read: nothing starts.
    experiment_dir = out / run.run_id / "default_network_BP_001"
    experiment_dir.mkdir(parents=True)
    (experiment_dir / "config.json").write_text("{}")
    with holding(experiment_dir) as holder:
        result = CliRunner().invoke(main, ["run", "--prefix", prefix, "--grid", "epochs=1", "--output", str(out)])
    assert result.exit_code == 1, result.output
    assert runs_line(result.output) == \
        "runs: 1 total, 0 completed now, 0 skipped (already complete), 0 failed, 1 busy (running elsewhere)"
    assert f"busy      {run.run_id}  pid {holder.pid} is running {experiment_dir}; not started" in result.output
    assert not (out / run.run_id / "stdout.log").exists() and not (out / run.run_id / "result.json").exists()
