"""timeline.png and timeline_by_category.png: the data they are drawn from is the trace's.

The phases shaded are the traced ops' phases, the stacked categories sum to timeline.txt's bytes
in use at every point, a budget line exists only for a run with a budget; and the drawings take
those from the data (their artists, not their pixels).
"""
import json

import pytest

from tests.tracing import handmade_step as step
from tests.tracing.report_checks import check_png
from tracing.categories import Classifier
from tracing.figures import BUDGET_KEY, PhaseSpan, category_series, phase_spans, timeline_figure
from tracing.node_table import executed_nodes
from tracing.plots import CATEGORY_FIGURE_SIZE, draw_timeline, draw_timeline_by_category
from tracing.records import AllocationRecord
from tracing.report import write_memory_report
from tracing.timeline import busiest_device, peak_index, split_by_device, timeline_points

META = {"network": "tiny_mlp", "algorithm": "BP", "iteration": 7, "batch_size": 4}


def figure_of(records=None, nodes=None, meta=META, persistent=1000, by_kind=None):
    records = step.records() if records is None else records
    nodes = executed_nodes(step.node_stats() if nodes is None else nodes, records)
    classifier = Classifier(runtime_op_types={node.name: node.op_type for node in nodes})
    points = {device: timeline_points(recs, step.T0) for device, recs in split_by_device(records).items()}
    busiest = busiest_device(points)
    return timeline_figure(points, busiest, nodes, classifier, step.T0, persistent, meta,
                           peak_index(points.get(busiest, [])), by_kind)


def legend_labels(figure):
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def test_the_phase_spans_are_the_traced_ops_phases():
    # The hand-made step: input and forward 2..42, backward 45..59, W2's update 61..63, block 1's
    # backward 64..70, W1's update 72..74 (_SOURCE is phase other: no span).
    assert figure_of().phase_spans == (
        PhaseSpan("forward", 2, 42), PhaseSpan("backward", 45, 59), PhaseSpan("update", 61, 63),
        PhaseSpan("backward", 64, 70), PhaseSpan("update", 72, 74))


def test_every_node_lies_in_a_span_of_its_own_phase_and_spans_alternate():
    nodes = executed_nodes(step.node_stats(), step.records())
    classifier = Classifier(runtime_op_types={node.name: node.op_type for node in nodes})
    spans = phase_spans(nodes, classifier, step.T0)
    assert all(a.phase != b.phase for a, b in zip(spans, spans[1:]))  # consecutive nodes of a phase merge
    for node in nodes:
        phase = classifier.phase(node.name)
        start, end = node.all_start_micros - step.T0, node.end_micros - step.T0
        inside = [span for span in spans if span.start_us <= start and end <= span.end_us]
        if phase == "other":
            continue
        assert any(span.phase == phase for span in inside), (node.name, phase, spans)


def test_a_lone_op_of_another_phase_is_a_sliver_not_the_stretch_to_the_next_op():
    # An update constant run first (as TF runs learning_rate before the step's input arrives).
    nodes = [*step.node_stats()]
    constant = nodes[0].__class__("update/Momentum/learning_rate", step.CPU, "Const", step.T0 + 0, 1)
    spans = figure_of(nodes=[constant, *nodes]).phase_spans
    assert spans[0] == PhaseSpan("update", 0, 1) and spans[1] == PhaseSpan("forward", 2, 42)


def test_the_stacked_categories_sum_to_the_traced_total_at_every_point():
    figure = figure_of()
    series = figure.categories
    assert series.times_us == tuple(point.time_us for point in figure.busiest)
    for index, point in enumerate(figure.busiest):
        assert series.total(index) == point.bytes_in_use
    # At the peak: the forward buffers (128 + 48 + 4) and the gradients (96 + 128), as summary.json says.
    at_peak = {category: values[figure.peak_index] for category, values in series.bytes_by_category.items()}
    assert at_peak == {"activation": 180, "gradient": 224}
    assert list(series.bytes_by_category) == ["activation", "gradient"]  # only categories the step used


def test_the_categories_still_sum_when_the_step_frees_what_an_earlier_step_made():
    # A variable's old copy freed inside the step: the curve goes below 0 and the stack follows it.
    records = [*step.records(), AllocationRecord(step.T0 + 73, -500, step.APPLY_W1, step.CPU, step.ALLOCATOR)]
    figure = figure_of(records=records)
    assert min(point.bytes_in_use for point in figure.busiest) < 0
    for index, point in enumerate(figure.busiest):
        assert figure.categories.total(index) == point.bytes_in_use
    assert figure.categories.bytes_by_category["update"][-1] == -500


def test_without_a_budget_no_budget_line():
    figure = figure_of()
    assert figure.budget_bytes is None and not figure.budget_on_axis and figure.budget_room is None
    assert not any("budget" in label for label in legend_labels(draw_timeline(figure)))


def test_a_budget_is_drawn_on_both_panels_where_it_is_in_view():
    # Peak 404 + persistent 1000: a budget of 1500 leaves 500 for the transient.
    figure = figure_of(meta={**META, BUDGET_KEY: 1500})
    assert figure.budget_bytes == 1500 and figure.budget_on_axis and figure.budget_room == 500
    drawn = draw_timeline(figure)
    total_axes, step_axes = drawn.axes
    # The upper panel is in KiB (1,404 bytes at the peak), the lower one in bytes.
    assert [line.get_ydata()[0] for line in total_axes.get_lines() if line.get_linestyle() == "--"] == [1500 / 1024]
    assert [line.get_ydata()[0] for line in step_axes.get_lines() if line.get_linestyle() == ":"] == [500]
    assert total_axes.get_ylim()[1] >= 1500 / 1024 and step_axes.get_ylim()[1] >= 500
    labels = legend_labels(drawn)
    assert "memory_budget (1.46 KiB)" in labels and "budget less persistent (500 bytes)" in labels


def test_a_budget_far_above_the_peak_is_named_but_does_not_flatten_the_curves():
    figure = figure_of(meta={**META, BUDGET_KEY: 4 << 30})
    assert not figure.budget_on_axis and figure.budget_room is None
    drawn = draw_timeline(figure)
    assert drawn.axes[0].get_ylim()[1] < 2 * (1000 + step.PEAK_BYTES)
    assert "memory_budget (4 GiB, far above this axis)" in legend_labels(drawn)


def test_the_drawings_shade_the_spans_and_stack_the_categories():
    figure = figure_of()
    labels = legend_labels(draw_timeline(figure))
    assert [label for label in labels if label.endswith(" phase")] == ["forward phase", "backward phase",
                                                                       "update phase"]
    assert any(label.startswith("peak: 404 bytes") and step.DH in label.replace("\n", "") for label in labels)
    by_category = draw_timeline_by_category(figure)
    labels = legend_labels(by_category)
    assert "activations (forward, loss): 180 bytes at the peak" in labels
    assert "gradients (backward, feedback): 224 bytes at the peak" in labels
    # The top of the stack is the traced total after every point (fill_between's step curve).
    top = by_category.axes[0].collections[1].get_paths()[0].vertices[:, 1]
    assert max(top) == pytest.approx(step.PEAK_BYTES)


def test_the_report_writes_both_figures_and_records_the_budget(tmp_path):
    summary = write_memory_report(step.records(), tmp_path, node_stats=step.node_stats(),
                                  meta={**META, BUDGET_KEY: 1500}, persistent_bytes=1000)
    check_png(tmp_path / "timeline.png")
    check_png(tmp_path / "timeline_by_category.png", CATEGORY_FIGURE_SIZE)
    assert summary[BUDGET_KEY] == 1500 == json.loads((tmp_path / "summary.json").read_text())[BUDGET_KEY]


def test_an_empty_step_still_draws_both_figures(tmp_path):
    write_memory_report([], tmp_path, node_stats=[], meta=META)
    check_png(tmp_path / "timeline.png")
    check_png(tmp_path / "timeline_by_category.png", CATEGORY_FIGURE_SIZE)


def test_the_persistent_band_is_split_by_kind_when_the_kinds_sum_to_it():
    kinds = {"weights": 400, "optimizer_state": 600, "other_variables": 0}
    figure = figure_of(by_kind=kinds)
    assert figure.persistent_by_kind == kinds
    labels = legend_labels(draw_timeline(figure))
    assert "persistent: weights (400 bytes)" in labels
    assert "persistent: optimizer state (slots, beta powers) (600 bytes)" in labels
    assert not any(label.startswith("persistent: other variables") for label in labels)  # none: no band
    # A caller's persistent_bytes that is not the graph's variables: one band, as without a graph.
    unsplit = figure_of(by_kind={"weights": 400, "optimizer_state": 0, "other_variables": 0})
    assert unsplit.persistent_by_kind is None
    assert any(label.startswith("persistent: variables") for label in legend_labels(draw_timeline(unsplit)))
