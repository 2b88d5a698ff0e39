"""The dynamic programme against brute force: every plan of small chains, every memory limit."""
import itertools
import random

import pytest
import tensorflow as tf

from layers import ConvolutionalLayer, FullyConnected, ReLu, Tanh
from planning.chain_costs import ChainCosts, chain_costs
from planning.checkpoint_plan import Segment, leaf, uniform
from planning.checkpoint_search import plan_peak, plan_time, search
from planning.model import MemoryModel
from training.blocks import forward_blocks, split_into_blocks

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`


def every_plan(start, stop):
    """Every plan of [start, stop): a leaf, or any cut into two or more children of which all but
    the last are any plan (nested) and the last is a leaf (a split last child is the same plan)."""
    yield leaf(start, stop)
    for cuts in range(1, stop - start):
        for points in itertools.combinations(range(start + 1, stop), cuts):
            bounds = [start, *points, stop]
            parts = list(zip(bounds, bounds[1:]))
            choices = [list(every_plan(a, b)) for a, b in parts[:-1]] + [[leaf(*parts[-1])]]
            for children in itertools.product(*choices):
                yield Segment(start, stop, children)


def random_costs(rng, blocks):
    # Small integers: one byte per memory unit, so the programme's rounding is exact.
    return ChainCosts(*(tuple(rng.randint(1, 9) for _ in range(blocks)) for _ in range(5)))


def test_every_plan_is_enumerated_once():
    plans = [str(plan) for plan in every_plan(0, 5)]
    assert len(plans) == len(set(plans))
    # As many as the programme's choices make: a leaf, or a first checkpoint k with any plan of
    # [0, k) and any of [k, n): count(n) = 1 + sum_k count(k) count(n - k).
    count = {1: 1}
    for n in range(2, 7):
        count[n] = 1 + sum(count[k] * count[n - k] for k in range(1, n))
    assert [sum(1 for _ in every_plan(0, n)) for n in range(1, 7)] == [count[n] for n in range(1, 7)]


@pytest.mark.parametrize("seed", range(12))
def test_the_programme_finds_the_fastest_plan_that_fits_every_limit(seed):
    rng = random.Random(seed)
    blocks = 6 if seed < 4 else rng.randint(1, 5)
    costs = random_costs(rng, blocks)
    plans = [(plan_time(plan, costs), plan_peak(plan, costs), plan) for plan in every_plan(0, blocks)]
    largest = max(peak for _, peak, _ in plans)
    tables = search(costs, max_bytes=largest, levels=largest)
    for limit in range(largest + 1):
        fitting = [time for time, peak, _ in plans if peak <= limit]
        found = tables.best(limit)
        if not fitting:
            assert found is None
            continue
        assert plan_peak(found, costs) <= limit
        assert plan_time(found, costs) == min(fitting)
    smallest = min(peak for _, peak, _ in plans)
    assert tables.smallest_units() == smallest and tables.best(smallest - 1) is None


def test_rounding_to_coarse_units_never_overshoots_a_limit():
    rng = random.Random(7)
    costs = ChainCosts(*(tuple(rng.randint(1000, 90000) for _ in range(8)) for _ in range(5)))
    tables = search(costs, levels=37)
    for limit in range(0, int(plan_peak(leaf(0, 8), costs)) + 5000, 997):
        found = tables.best(limit)
        assert found is None or plan_peak(found, costs) <= limit


def test_the_same_costs_give_the_same_plans():
    rng = random.Random(3)
    costs = ChainCosts(*(tuple(rng.choice([4, 4, 8]) for _ in range(10)) for _ in range(5)))
    first = [str(plan) for _, plan in search(costs).frontier()]
    assert first == [str(plan) for _, plan in search(costs).frontier()]


def test_the_frontier_trades_time_for_memory():
    costs = ChainCosts(*(tuple([3] * 12) for _ in range(5)))
    frontier = search(costs).frontier()
    assert str(frontier[0][1]) == "12"  # all the memory asked for: no checkpoints
    times = [plan_time(plan, costs) for _, plan in frontier]
    peaks = [plan_peak(plan, costs) for _, plan in frontier]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert peaks == sorted(peaks, reverse=True)
    assert any(plan.levels() > 1 for _, plan in frontier)  # the least memory needs nesting


def model(layers, input_shape, classes=10):
    blocks = split_into_blocks(layers)
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    return MemoryModel(blocks, input_shape, classes, threads=2, optimizer="momentum")


@pytest.mark.parametrize("layers, shape", [
    ([FullyConnected(300, flatten=True), Tanh()] + [layer for _ in range(5) for layer in (FullyConnected(200), Tanh())]
     + [FullyConnected(10)], (16, 16, 1)),
    ([layer for _ in range(5) for layer in (ConvolutionalLayer((3, 3), 8), ReLu())]
     + [FullyConnected(10, flatten=True)], (12, 12, 3)),
], ids=["dense", "conv"])
def test_the_chain_model_is_the_simulation_of_uniform_plans(layers, shape):
    """The per-block sums that the search ranks plans by equal the full simulation of BPCKPT's
    program where blocks do not overlap (uniform plans on these chains)."""
    memory = model(layers, shape)
    costs = chain_costs(memory.blocks, 10, 32, threads=2)
    for segment_size in (1, 2, 3):
        memory.segment_size = segment_size
        predicted = memory.predict("BPCKPT", 32).peak_bytes
        assert abs(plan_peak(uniform(len(costs), segment_size), costs) - predicted) <= 0.02 * predicted
