"""Measured per-block forward times for the budget planner, from a traced run's blocks.csv.

The plan search ranks plans by the forward time they run again. Without a profile that time is
counted in FLOPs (planning/chain_costs.py), which misjudges blocks whose time is not their
multiply-adds (batch norm, pooling, memory-bound element-wise work, a convolution shape that
runs slowly). A `memory_only` run of the same network writes memory/blocks.csv
(tracing/profile.py) with forward_time_us, the run time of each block's first forward pass: with
`budget_profile` pointing at it, the planner ranks plans by those microseconds and reports the
recomputation overhead as measured time over the traced BP-step time of the blocks.

The bytes stay the model's: a plan is kept only when the full simulation predicts that it fits,
and that prediction is what the tracer checks.
"""
import csv
import os
from dataclasses import dataclass

from definitions.errors import ConfigError

BLOCKS_FILE = "blocks.csv"
COLUMNS = ("block", "forward_time_us", "backward_time_us")


@dataclass(frozen=True)
class BlockProfile:
    path: str
    forward_time_us: tuple
    backward_time_us: tuple

    def recompute_fraction(self, plan):
        """Forward time the plan runs again over the traced time of one forward and backward."""
        again = sum(time * (count - 1) for time, count in zip(self.forward_time_us, plan.forward_counts()))
        return again / (sum(self.forward_time_us) + sum(self.backward_time_us))


def profile_file(path):
    """blocks.csv itself, or the one in a memory report directory or a run directory."""
    for candidate in (path, os.path.join(path, BLOCKS_FILE), os.path.join(path, "memory", BLOCKS_FILE)):
        if os.path.isfile(candidate):
            return candidate
    raise ConfigError(f"config key 'budget_profile': no {BLOCKS_FILE} at {path!r} (looked for the file, "
                      f"{os.path.join(path, BLOCKS_FILE)!r} and {os.path.join(path, 'memory', BLOCKS_FILE)!r}); "
                      f"trace the network once with --memory_only true and give its run directory")


def read_block_profile(path, num_blocks):
    """The BlockProfile at `path` for a chain of `num_blocks` blocks; ConfigError if it is not one."""
    found = profile_file(path)
    where = f"config key 'budget_profile' ({found})"
    try:
        with open(found, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"{where}: cannot be read: {error}") from None
    missing = [column for column in COLUMNS if not rows or column not in rows[0]]
    if missing:
        raise ConfigError(f"{where}: not a blocks.csv of a memory report (no column {missing[0]!r})")
    try:
        by_block = {int(row["block"]): (float(row["forward_time_us"]), float(row["backward_time_us"])) for row in rows}
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    if sorted(by_block) != list(range(num_blocks)):
        raise ConfigError(f"{where}: has blocks {_span(by_block)}, the network has {num_blocks} (0-{num_blocks - 1}): "
                          f"profile the same network and sequence")
    forward = tuple(by_block[block][0] for block in range(num_blocks))
    if min(forward) <= 0:
        raise ConfigError(f"{where}: block {forward.index(min(forward))} has no forward time")
    return BlockProfile(found, forward, tuple(by_block[block][1] for block in range(num_blocks)))


def _span(by_block):
    return f"{min(by_block)}-{max(by_block)}" if by_block else "none"
