"""The same grid on a 2-worker Dask LocalCluster: through the CLI, and stopped by an interrupt."""
import os
import threading

import pytest
from click.testing import CliRunner

from tests.tuner.conftest import alive, runs_line
from tuner.executors import dask_backend
from tuner.grid import expand, sgen
from tuner.runner import run_sweep

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # Worker processes, as on a real cluster: the work function, the stop Event and the
    # results must all survive pickling between processes.
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as local:
        yield local


def test_the_grid_runs_on_dask_and_resumes(tmp_path, fake_prefix, cluster):
    from tuner.cli import main

    out = str(tmp_path / "sweep")
    args = ["run", "--executor", "dask", "--scheduler", cluster.scheduler_address, "--prefix", fake_prefix,
            "--grid", "learning_rate=0.05,0.1", "--grid", "batch_size=10,20", "--output", out]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert runs_line(result.output) == "runs: 4 total, 4 completed now, 0 skipped (already complete), 0 failed"
    assert len(open(os.path.join(out, "summarise.csv")).read().splitlines()) == 5

    run_dirs = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)) and not d.startswith('.'))
    os.remove(os.path.join(out, run_dirs[0], "result.json"))
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert runs_line(result.output) == "runs: 4 total, 1 completed now, 3 skipped (already complete), 0 failed"


def test_an_interrupt_reaches_commands_on_the_workers(tmp_path, fake_prefix, cluster):
    runs = expand(fake_prefix, [sgen("mode", ["hang"]), sgen("sleep", ["0", "0.01", "0.02"])])
    out = str(tmp_path / "sweep")
    interrupt = threading.Event()
    threading.Timer(1.5, interrupt.set).start()
    with dask_backend(cluster.scheduler_address) as backend:
        counts = run_sweep(runs, out, backend.executor, stop_token=backend.stop_token, interrupt=interrupt,
                           echo=lambda line: None, warn=lambda line: None)
    assert counts.interrupted and counts.completed_now == 0 and counts.failed == 0
    assert not any(os.path.exists(os.path.join(out, run.run_id, "result.json")) for run in runs)
    pids = [open(p).read() for p in (os.path.join(out, r.run_id, "pid") for r in runs) if os.path.exists(p)]
    assert len(pids) == 2  # two workers, one thread each: the third run never started
    assert not any(alive(int(pid)) for pid in pids)
