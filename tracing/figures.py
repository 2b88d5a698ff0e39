"""What the report's figures show, as plain data: the plots (tracing/plots.py) only draw it.

timeline.png and timeline_by_category.png are built from one `TimelineFigure`, computed from
the same timeline points, executed nodes and classifier as the text files, so the tests hold
the figures' data to the trace (the phases shaded are the traced ops' phases, the stacked
categories sum to timeline.txt's bytes in use, a budget is drawn only for a run that had one)
without reading pixels.
"""
from dataclasses import dataclass, field

from tracing.categories import CATEGORIES
from tracing.timeline import device_file_names

#: The phases a figure shades, in the order of its legend (phase `other` is not shaded).
SHADED_PHASES = ("forward", "backward", "update")

#: The meta key (summary.json's too) of a run's memory budget in bytes, set for a `memory_budget` run.
BUDGET_KEY = "memory_budget_bytes"

#: A budget line is drawn on a panel only up to this many times the panel's highest curve.
BUDGET_VIEW = 1.5


@dataclass(frozen=True)
class PhaseSpan:
    """A stretch of the step (µs since its start) in which the executed nodes were of one phase."""

    phase: str
    start_us: int
    end_us: int


@dataclass(frozen=True)
class CategorySeries:
    """The busiest device's memory in use by the step, split by the category of the op that
    allocated each buffer: after the i-th point of the timeline, `bytes_by_category[c][i]` bytes
    belonged to category c, and the categories sum to that point's bytes_in_use."""

    times_us: tuple
    bytes_by_category: dict  # category -> tuple of bytes, in CATEGORIES order, only those ever used

    def total(self, index):
        return sum(values[index] for values in self.bytes_by_category.values())


@dataclass(frozen=True)
class TimelineFigure:
    title: str
    series: list  # [(legend label, timeline points)], the busiest device first
    persistent_bytes: int
    peak_index: object  # index into the busiest device's points, None for an empty step
    phase_spans: tuple = ()
    budget_bytes: object = None  # the run's memory_budget (total bytes), None without one
    categories: CategorySeries = field(default_factory=lambda: CategorySeries((), {}))
    # {'weights', 'optimizer_state', 'other_variables'} -> bytes (tracing.persistent_breakdown),
    # summing to persistent_bytes; None when the graph was not given: one band, not three.
    persistent_by_kind: object = None

    @property
    def busiest(self):
        return self.series[0][1] if self.series else []

    @property
    def step_largest(self):
        """The most bytes the step held at once on any device (0 for an empty step)."""
        return max([0] + [point.bytes_in_use for _, points in self.series for point in points])

    @property
    def budget_on_axis(self):
        """Whether the budget line is within the upper panel's axis: a budget far above the peak
        (BP's schedule fits) would flatten the curve, so it is named in the legend only."""
        return self.budget_bytes is not None and \
            self.budget_bytes <= BUDGET_VIEW * (self.persistent_bytes + self.step_largest)

    @property
    def budget_room(self):
        """The budget less the persistent memory, the transient's allowance, drawn on the lower
        panel where it is within its view; else None."""
        if self.budget_bytes is None:
            return None
        room = self.budget_bytes - self.persistent_bytes
        return room if 0 < room <= BUDGET_VIEW * self.step_largest else None


def phase_spans(nodes, classifier, origin_us):
    """PhaseSpans of the step: consecutive executed nodes (in execution order) of one phase make
    a span, from the first one's start to the latest end among them. Nodes of phase `other` (the
    executor's _SOURCE, variables' handles, fetches) belong to no span and do not split one. The
    time between spans is shaded by none: a constant of the update scope that runs first, or a
    gradient's Shape that runs in the forward pass (see
    ARCHITECTURE.md, "A gradient's Shape runs in the forward pass"), is a sliver of its own run
    time, not the stretch until the next op."""
    groups = []  # [phase, start, end]
    for node in sorted(nodes, key=lambda node: node.all_start_micros):
        phase = classifier.phase(node.name)
        if phase not in SHADED_PHASES:
            continue
        start, end = node.all_start_micros - origin_us, node.end_micros - origin_us
        if groups and groups[-1][0] == phase:
            groups[-1][2] = max(groups[-1][2], end)
        else:
            groups.append([phase, start, end])
    return tuple(PhaseSpan(phase, start, end) for phase, start, end in groups)


def category_series(points, classifier):
    """CategorySeries of one device's timeline points. A free is recorded on the op that
    allocated the buffer, so each category's running sum of deltas is what its ops hold."""
    running = dict.fromkeys(CATEGORIES, 0)
    values = {category: [] for category in CATEGORIES}
    for point in points:
        running[classifier.category(point.op_name)] += point.delta_bytes
        for category in CATEGORIES:
            values[category].append(running[category])
    used = {category: tuple(values[category]) for category in CATEGORIES if any(values[category])}
    return CategorySeries(tuple(point.time_us for point in points), used)


def plot_series(per_device_points, busiest):
    """(legend label, points) per device, the busiest first: it is drawn over the baseline."""
    short = device_file_names(list(per_device_points))
    series = [(f"allocated by the step on {short[busiest]}, above persistent", per_device_points[busiest])] \
        if busiest else []
    series += [(f"allocated by the step on {short[device]}", points)
               for device, points in per_device_points.items() if device != busiest]
    return series


def title(meta):
    """'Memory of one training step: vgg_16 (sequence vgg_16), BP, batch 64, iteration 4, oneDNN
    kernels': what a figure needs to be told apart from another run's (issue "A researcher's day")."""
    parts = [str(meta["network"])] if meta.get("network") is not None else []
    if meta.get("sequence") is not None and meta.get("sequence") != meta.get("network"):
        parts[-1:] = [f"{parts[-1] if parts else ''} (sequence {meta['sequence']})".strip()]
    parts += [str(meta["algorithm"])] if meta.get("algorithm") is not None else []
    parts += [f"batch {meta['batch_size']}"] if meta.get("batch_size") is not None else []
    parts += [f"iteration {meta['iteration']}"] if meta.get("iteration") is not None else []
    parts += [f"{meta['kernels']} kernels"] if meta.get("kernels") else []
    return "Memory of one training step" + (": " + ", ".join(parts) if parts else "")


def timeline_figure(per_device_points, busiest, nodes, classifier, origin_us, persistent_bytes, meta, peak_index,
                    persistent_by_kind=None):
    """The TimelineFigure of a traced step: nodes are the executed nodes (every device), meta the
    report's (its BUDGET_KEY, when set, is the budget line); persistent_by_kind splits the
    persistent band when it sums to persistent_bytes."""
    budget = (meta or {}).get(BUDGET_KEY)
    if persistent_by_kind is not None and sum(persistent_by_kind.values()) != int(persistent_bytes):
        persistent_by_kind = None  # the caller's persistent_bytes is not the graph's variables
    return TimelineFigure(
        title=title(meta or {}),
        series=plot_series(per_device_points, busiest),
        persistent_bytes=int(persistent_bytes),
        peak_index=peak_index,
        phase_spans=phase_spans(nodes, classifier, origin_us),
        budget_bytes=None if budget is None else int(budget),
        categories=category_series(per_device_points.get(busiest, []), classifier),
        persistent_by_kind=None if persistent_by_kind is None else dict(persistent_by_kind),
    )
