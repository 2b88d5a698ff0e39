"""Continuing a sweep run where it stopped: find the experiment's run directory, build `--resume`.

A sweep run's --output_dir is its own directory (SWEEP/RUN_ID); the experiment makes its run
directory inside it (`<network>_<type>_NNN`, holding config.json and checkpoints/). The worker
looks there before starting a run the driver allows to resume: found, the command becomes
`experiment --resume <that directory>`, which continues from the newest valid checkpoint (or
from epoch 1 when it has none, in the same directory), and only reports a run that had already
finished. Standard library only: the worker imports it on every executor's machines.
"""
import dataclasses
import os

CONFIG = "config.json"


@dataclasses.dataclass(frozen=True)
class Resume:
    """`program --resume RUN_DIR *extra`: how a run of one grid command is continued."""

    program: tuple  # the prefix up to the experiment itself, e.g. ("python", "experiment.py")
    extra: tuple = ()  # the only other options --resume takes: ("--data_dir", DIR)

    def argv(self, run_dir):
        return [*self.program, "--resume", run_dir, *self.extra]


def run_to_resume(output_dir):
    """The experiment run directory in `output_dir` a resume continues, or None.

    The newest one holding a config.json: a run retried afresh after a failure left its failed
    predecessor beside it (`..._001`, then `..._002`), and the newer one is the run now going.
    """
    try:
        entries = list(os.scandir(output_dir))
    except OSError:
        return None
    found = []
    for entry in entries:
        try:
            if entry.is_dir():
                found.append((os.stat(os.path.join(entry.path, CONFIG)).st_mtime, entry.name, entry.path))
        except OSError:
            continue  # no config.json: not an experiment's run directory (or not one yet)
    return max(found)[2] if found else None
