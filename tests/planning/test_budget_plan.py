"""The budget planner on the memory model: fits, fastest, monotone, exact at the feasibility boundary."""
import pytest
import tensorflow as tf

from layers import ConvolutionalLayer, FullyConnected, ReLu, Tanh
from planning.budget_plan import BudgetPlanner, InfeasibleBudget, needed_bytes
from planning.checkpoint_plan import uniform
from planning.checkpoint_search import plan_time
from planning.model import MemoryModel
from training.blocks import forward_blocks, split_into_blocks

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

BATCH = 32


def model(layers, input_shape):
    blocks = split_into_blocks(layers)
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    return MemoryModel(blocks, input_shape, 10, threads=2, optimizer="momentum")


def long_mlp():
    layers = [FullyConnected(256, flatten=True), Tanh()]
    for _ in range(9):
        layers += [FullyConnected(256), Tanh()]
    return model(layers + [FullyConnected(10)], (16, 16, 1))


def small_conv():
    layers = []
    for _ in range(5):
        layers += [ConvolutionalLayer((3, 3), 8), ReLu()]
    return model(layers + [FullyConnected(10, flatten=True)], (12, 12, 3))


@pytest.fixture(scope="module", params=[long_mlp, small_conv], ids=["mlp", "conv"])
def planner(request):
    return BudgetPlanner(request.param(), BATCH)


def budgets(planner, count=12):
    """Budgets from the feasibility floor to past the plan without checkpoints."""
    low, high = planner.smallest_bytes(), planner.predict(planner.candidates[0]).total_bytes
    return [low + (high - low) * i // (count - 1) for i in range(count)] + [high * 2]


def test_every_plan_fits_its_budget_and_a_larger_budget_never_slows_the_plan(planner):
    times = []
    for budget in budgets(planner):
        found = planner.plan(budget)
        assert found.prediction.total_bytes <= budget
        times.append(plan_time(found.plan, planner.costs))
    assert times == sorted(times, reverse=True)


def test_it_is_the_fastest_of_the_uniform_plans_that_fit(planner):
    """Never slower than Chen et al.'s segments where one of them fits the same budget."""
    blocks = len(planner.costs)
    for budget in budgets(planner):
        found = planner.plan(budget)
        for size in range(1, blocks + 1):
            candidate = uniform(blocks, size)
            if needed_bytes(planner.predict(candidate).total_bytes) <= budget:
                assert plan_time(found.plan, planner.costs) <= plan_time(candidate, planner.costs)


def test_a_budget_above_the_need_of_storing_everything_gives_no_checkpoints(planner):
    found = planner.plan(10 * planner.predict(planner.candidates[0]).total_bytes)
    assert found.plan.is_leaf and found.plan.describe().startswith("no checkpoints")
    assert found.recompute_fraction == 0


def test_the_smallest_feasible_budget_is_exact(planner):
    smallest = planner.smallest_bytes()
    assert needed_bytes(planner.plan(smallest).prediction.total_bytes) == smallest
    with pytest.raises(InfeasibleBudget) as caught:
        planner.plan(smallest - 1)
    assert caught.value.smallest_bytes == smallest
    assert f"({smallest} bytes)" in str(caught.value)


def test_the_least_memory_needs_nested_recomputation():
    planner = BudgetPlanner(long_mlp(), BATCH)
    floor_plan = planner.plan(planner.smallest_bytes()).plan
    assert floor_plan.levels() >= 2
    uniform_floor = min(needed_bytes(planner.predict(uniform(len(planner.costs), size)).total_bytes)
                        for size in range(1, len(planner.costs) + 1))
    assert planner.smallest_bytes() < uniform_floor


def test_an_infeasible_budget_names_the_approximate_algorithms_that_fit(planner):
    budget = planner.smallest_bytes() - 1
    with pytest.raises(InfeasibleBudget) as caught:
        planner.plan(budget)
    expected = [kind for kind in ("DFAMEM", "DRTP")
                if needed_bytes(planner.model.predict(kind, BATCH).total_bytes) <= budget]
    assert caught.value.fitting == expected
    assert all(kind in str(caught.value) for kind in expected)
    assert "would fit" in str(caught.value) if expected else "neither" in str(caught.value)


def test_the_same_inputs_give_the_same_plan():
    plans = [str(BudgetPlanner(long_mlp(), BATCH).plan(budget).plan)
             for budget in [BudgetPlanner(long_mlp(), BATCH).smallest_bytes() + 50_000] * 2]
    assert plans[0] == plans[1]
