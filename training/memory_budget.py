"""`memory_budget`: a run's BPCKPT plan, chosen before its graph is built, from its own blocks.

With memory_budget alone, the budget planner (planning.budget_plan) searches the plan; with
checkpoint_plan or segment_size also set, that plan is checked against the budget instead (a
resumed run's config.json holds the plan it was given, so it resumes with the same one). A
budget no plan meets is a ConfigError: exit code 2 before anything is trained, naming the
smallest budget that exact gradients need and the approximate algorithms that would fit —
never a silent switch to one of them.
"""
from dataclasses import asdict, dataclass

from definitions.errors import ConfigError
from definitions.sizes import format_size, parse_size
from planning.block_profile import read_block_profile
from planning.budget_plan import BudgetPlanner, InfeasibleBudget
from training.memory_model import model_of
from training.preflight import checkpoint_plan


@dataclass(frozen=True)
class RunPlan:
    """What a run with a budget records (result.json's `memory_plan`) and prints."""

    checkpoint_plan: str
    description: str
    budget_bytes: int
    predicted_peak_bytes: int
    predicted_persistent_bytes: int
    predicted_total_bytes: int
    recompute_fraction: float
    searched: bool  # False: the config's own plan, checked
    time_source: str = "FLOPs"  # what recompute_fraction counts: FLOPs, or a profile's blocks.csv

    def line(self):
        how = "planned" if self.searched else "given"
        return (f"memory budget {format_size(self.budget_bytes)}: BPCKPT plan {self.checkpoint_plan} ({how}; "
                f"{self.description}), predicted total {format_size(self.predicted_total_bytes)} "
                f"(transient {format_size(self.predicted_peak_bytes)} + persistent "
                f"{format_size(self.predicted_persistent_bytes)}), recomputation +"
                f"{100 * self.recompute_fraction:.0f}% of a BP step ({self.time_source})")

    def measured_line(self, peak_bytes, persistent_bytes):
        """After a memory_only trace: the measured total next to the budget."""
        total = peak_bytes + persistent_bytes
        verdict = "within" if total <= self.budget_bytes else "OVER"
        return (f"measured total {format_size(total)} {verdict} the budget of {format_size(self.budget_bytes)} "
                f"(predicted {format_size(self.predicted_total_bytes)}, {total / self.predicted_total_bytes - 1:+.1%})")

    def to_dict(self):
        return asdict(self)


def check_memory_budget(config):
    """Before anything is built: a budget is BPCKPT's (the other types have no plan to choose),
    and a profile is read only to plan for a budget."""
    if config.budget_profile is not None and config.memory_budget is None:
        raise ConfigError("config key 'budget_profile' gives the budget planner measured block times, but "
                          "memory_budget is not set: set memory_budget too, or leave budget_profile out")
    if config.memory_budget is not None and config.type != "BPCKPT":
        raise ConfigError(f"config key 'memory_budget' plans BPCKPT's recomputation, but type is {config.type}: "
                          f"set type BPCKPT, or compare the types against a budget with "
                          f"`experiment plan --budget {config.memory_budget}`")


def budget_planner(config, model, batch_size):
    """The BudgetPlanner of a config's model at a batch size, with its budget_profile when set."""
    profile = read_block_profile(config.budget_profile, len(model.blocks)) if config.budget_profile else None
    return BudgetPlanner(model, batch_size, profile=profile)


def plan_run(config, blocks, dataset, threads=None):
    """(config with checkpoint_plan set, RunPlan) for a config with memory_budget; (config, None) without."""
    if config.memory_budget is None:
        return config, None
    check_memory_budget(config)
    budget = parse_size(config.memory_budget, "config key 'memory_budget'")
    model = model_of(config, blocks, dataset.input_shape, dataset.num_classes, threads)
    planner = budget_planner(config, model, config.batch_size)
    # A plan the config gives (checkpoint_plan or segment_size) is checked, not searched.
    given = checkpoint_plan(config, len(blocks)) if config.checkpoint_plan or config.segment_size else None
    if given is None:
        try:
            found = planner.plan(budget)
        except InfeasibleBudget as error:
            raise ConfigError(str(error)) from None
        plan, prediction = found.plan, found.prediction
    else:
        plan, prediction = given, planner.predict(given)
        if prediction.total_bytes > budget:
            raise ConfigError(f"checkpoint plan {plan} is predicted to need {format_size(prediction.total_bytes)}, "
                              f"more than memory_budget {format_size(budget)}: leave checkpoint_plan and "
                              f"segment_size unset to have a plan searched for the budget")
    run_plan = RunPlan(str(plan), plan.describe(), budget, prediction.peak_bytes, prediction.persistent_bytes,
                       prediction.total_bytes, planner.recompute_fraction(plan), given is None,
                       planner.time_source)
    return config.replace(checkpoint_plan=str(plan), segment_size=None), run_plan

