"""A traced profile's block times: read from a run, checked against the chain, and ranking the plans."""
import csv

import pytest

from definitions.errors import ConfigError
from planning.block_profile import read_block_profile
from planning.budget_plan import BudgetPlanner
from planning.checkpoint_plan import parse
from planning.checkpoint_search import plan_time
from tests.planning.test_budget_plan import BATCH, long_mlp

BLOCKS = 10


def write_profile(directory, forward, backward=None, columns=("block", "forward_time_us", "backward_time_us")):
    backward = backward or [2 * time for time in forward]
    path = directory / "memory" / "blocks.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for block, (f, b) in enumerate(zip(forward, backward)):
            writer.writerow([block, f, b][:len(columns)])
    return path


@pytest.mark.parametrize("where", ["run", "memory", "file"])
def test_it_reads_a_run_a_memory_report_or_the_file(tmp_path, where):
    path = write_profile(tmp_path, range(1, BLOCKS + 1))
    given = {"run": tmp_path, "memory": path.parent, "file": path}[where]
    profile = read_block_profile(str(given), BLOCKS)
    assert profile.path == str(path)
    assert profile.forward_time_us == tuple(float(t) for t in range(1, BLOCKS + 1))


def test_the_overhead_is_the_time_run_again_over_a_bp_step(tmp_path):
    forward = [10.0 * (block + 1) for block in range(BLOCKS)]
    profile = read_block_profile(str(write_profile(tmp_path, forward)), BLOCKS)
    plan = parse("(2|3)|5", BLOCKS)
    # Blocks 0-1 run three times (first pass, level 1, level 2), blocks 2-4 twice, 5-9 once.
    again = 2 * (forward[0] + forward[1]) + sum(forward[2:5])
    assert profile.recompute_fraction(plan) == pytest.approx(again / (3 * sum(forward)))
    assert profile.recompute_fraction(parse(str(BLOCKS), BLOCKS)) == 0.0


@pytest.mark.parametrize("forward, columns, message", [
    (range(1, BLOCKS), None, "has blocks 0-8, the network has 10"),
    ([0] + list(range(1, BLOCKS)), None, "block 0 has no forward time"),
    (range(1, BLOCKS + 1), ("block", "forward_time_us"), "no column 'backward_time_us'"),
], ids=["other_network", "no_time", "not_blocks_csv"])
def test_a_profile_of_something_else_is_refused(tmp_path, forward, columns, message):
    path = write_profile(tmp_path, list(forward), columns=columns or ("block", "forward_time_us", "backward_time_us"))
    with pytest.raises(ConfigError, match=message):
        read_block_profile(str(path), BLOCKS)


def test_a_missing_profile_says_where_it_looked(tmp_path):
    with pytest.raises(ConfigError, match="looked for the file") as error:
        read_block_profile(str(tmp_path / "nothing"), BLOCKS)
    assert "--memory_only true" in str(error.value)


def test_measured_times_steer_the_plan_away_from_a_slow_block(tmp_path):
    """Equal FLOPs, but the last block the FLOP-ranked plan recomputes measured a hundred times
    slower: the plan stops recomputing it, and is faster by the measured times."""
    model = long_mlp()
    flops_planner = BudgetPlanner(model, BATCH)
    low, high = flops_planner.smallest_bytes(), flops_planner.predict(flops_planner.candidates[0]).total_bytes
    budget = low + (high - low) // 4
    by_flops = flops_planner.plan(budget)
    slow = max(block for block, count in enumerate(by_flops.plan.forward_counts()) if count > 1)
    forward = [100.0] * len(model.blocks)
    forward[slow] = 10_000.0
    profile = read_block_profile(str(write_profile(tmp_path, forward)), len(model.blocks))
    timed = BudgetPlanner(model, BATCH, profile=profile)
    by_time = timed.plan(budget)
    assert by_time.prediction.total_bytes <= budget
    assert by_time.plan.forward_counts()[slow] == 1
    assert plan_time(by_time.plan, timed.costs) < plan_time(by_flops.plan, timed.costs)
    assert by_time.recompute_fraction == pytest.approx(profile.recompute_fraction(by_time.plan))
