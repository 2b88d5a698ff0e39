"""Hyperparameter sweeps: grids of experiment commands, run resumably on a pool or on Dask.

    grid.py      sgen / cmd_generator, run ids          gridfile.py  --grid and grid files
    worker.py    runs one command (on any executor)     outcome.py   exit code + stdout -> verdict
    state.py     run directories, result.json checks    runner.py    the driver: plan, run, record
    executors.py local process pool, Dask               summary.py   summarise.csv
    resume.py    continuing a run from its checkpoint   cli.py       `tuner run`, `tuner summary`
    experiment_command.py   what the tuner knows of `experiment`: its keys, options and --resume
"""
from tuner.grid import cmd_generator, sgen

__all__ = ["cmd_generator", "sgen"]
