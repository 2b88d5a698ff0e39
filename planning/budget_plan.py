"""A memory budget in, a BPCKPT plan out: exact gradients in the memory a device has.

    result = plan_for_budget(model, batch_size=32, budget_bytes=parse_size("300MiB"))
    result.plan            # planning.checkpoint_plan.Segment
    result.prediction      # the memory model's prediction of BPCKPT under that plan
    result.recompute_fraction

The budget is for the total a device holds: the persistent bytes plus the transient peak of a
step. The dynamic programme (planning.checkpoint_search) ranks plans on the chain model; its
frontier (the fastest plan for each memory limit) is then predicted, fastest first, with the full
simulation of BPCKPT's program, and the first plan whose predicted total fits is the answer. The
candidates do not depend on the budget, so the answer is monotone in it: a plan exists exactly
when the budget is at least the smallest predicted total among them, plus a margin of 0.2% and
4 KiB for the few small buffers the simulation misses (InfeasibleBudget reports that number, and
which approximate algorithms would fit, without choosing one).
"""
from dataclasses import dataclass
from functools import cached_property

from planning.chain_costs import chain_costs
from planning.checkpoint_plan import leaf
from planning.checkpoint_search import search

#: The approximate algorithms a researcher might fall back to, named (never chosen) when no plan fits.
APPROXIMATE_FALLBACKS = ("DFAMEM", "DRTP")
# What a plan needs beyond its predicted total: the simulation misses a few small buffers of the
# real step (the shape vectors of a run's dynamic batch, a pooled feature map that a kernel
# running beside holds: 16 B to 16 KiB, 0.015% of resnet_18's total, in tests/training/
# test_budget_guarantee.py), and a plan at the budget's edge must still fit.
MARGIN_FRACTION, MARGIN_BYTES = 0.002, 4096


def needed_bytes(total_bytes):
    """The budget a plan whose predicted total is `total_bytes` needs."""
    return int(total_bytes) + int(total_bytes * MARGIN_FRACTION) + MARGIN_BYTES


@dataclass(frozen=True)
class BudgetPlan:
    plan: object  # Segment
    prediction: object  # planning.model.Prediction of BPCKPT under the plan
    recompute_fraction: float  # forward FLOPs (or, with a profile, time) recomputed / one BP step's
    budget_bytes: int


class InfeasibleBudget(Exception):
    def __init__(self, budget_bytes, smallest_bytes, fitting):
        self.budget_bytes, self.smallest_bytes, self.fitting = budget_bytes, smallest_bytes, fitting
        from definitions.sizes import format_size
        others = (f"; {' and '.join(fitting)} would fit it (approximate gradients)" if fitting
                  else f"; neither {' nor '.join(APPROXIMATE_FALLBACKS)} fits it either")
        super().__init__(f"no checkpointing plan fits a memory budget of {format_size(budget_bytes)}: exact "
                         f"gradients need at least {format_size(smallest_bytes)} ({smallest_bytes} bytes){others}")


class BudgetPlanner:
    """The candidate plans of one network at one batch size, predicted once each, on demand."""

    def __init__(self, model, batch_size, costs=None, profile=None):
        """profile: a planning.block_profile.BlockProfile whose measured forward times rank the
        plans and give the recomputation overhead, instead of FLOP counts."""
        self.model, self.batch_size, self.profile = model, int(batch_size), profile
        self.costs = costs or chain_costs(model.blocks, model.classes, batch_size, model.cost_function,
                                          model.threads, model.kernels)
        if profile is not None:
            self.costs = self.costs.with_forward_times(profile.forward_time_us)
        self._predictions = {}

    @cached_property
    def candidates(self):
        """Plans from the fastest (no checkpoints) to the one that needs the least memory."""
        found = [leaf(0, len(self.costs))] + [plan for _, plan in search(self.costs).frontier()]
        return list({str(plan): plan for plan in found}.values())

    def predict(self, plan):
        key = str(plan)
        if key not in self._predictions:
            self._predictions[key] = self.model.predict("BPCKPT", self.batch_size, plan=plan)
        return self._predictions[key]

    def plan(self, budget_bytes):
        """The BudgetPlan of the fastest candidate whose predicted total fits; InfeasibleBudget if none."""
        for plan in self.candidates:
            prediction = self.predict(plan)
            if needed_bytes(prediction.total_bytes) <= budget_bytes:
                return BudgetPlan(plan, prediction, self.recompute_fraction(plan), int(budget_bytes))
        raise InfeasibleBudget(int(budget_bytes), self.smallest_bytes(), self.fitting_fallbacks(budget_bytes))

    @property
    def time_source(self):
        """What recompute_fraction counts: the profile's measured times, the measured kernels' or FLOPs."""
        if self.profile:
            return f"measured, {self.profile.path}"
        return "measured kernel times" if getattr(self.model, "kernels", None) else "FLOPs"

    def recompute_fraction(self, plan):
        """Forward time run again over one BP step's: a profile's, else the model's (measured
        kernel times, or FLOPs)."""
        return self.profile.recompute_fraction(plan) if self.profile else self.predict(plan).recompute_fraction

    def smallest_bytes(self):
        """The smallest budget any candidate meets: below it, plan() raises."""
        return min(needed_bytes(self.predict(plan).total_bytes) for plan in self.candidates)

    def fitting_fallbacks(self, budget_bytes):
        return [kind for kind in APPROXIMATE_FALLBACKS
                if needed_bytes(self.model.predict(kind, self.batch_size).total_bytes) <= budget_bytes]


def plan_for_budget(model, batch_size, budget_bytes, profile=None):
    return BudgetPlanner(model, batch_size, profile=profile).plan(budget_bytes)
