"""PNG figures of memory timelines, rendered to bytes.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot): no screen is needed, no
global figure state is left behind, and the PNG has a fixed pixel size (FIGURE_SIZE x DPI).
"""
import io

DPI = 100
TIMELINE_FIGURE_SIZE = (10, 8)  # inches: 1000 x 800 pixels
CATEGORY_FIGURE_SIZE = (10, 5.5)  # inches: 1000 x 550 pixels
COMPARE_FIGURE_SIZE = (11, 6)  # inches: 1100 x 600 pixels
_UNITS = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "bytes"))


def byte_unit(largest_bytes):
    """(divisor, name) of the largest unit in which `largest_bytes` is at least 1."""
    for divisor, name in _UNITS:
        if abs(largest_bytes) >= divisor:
            return divisor, name
    return 1, "bytes"


def format_bytes(count):
    divisor, name = byte_unit(count)
    return f"{count / divisor:.3g} {name}" if divisor > 1 else f"{count} bytes"


def _step_curve(points, baseline, divisor):
    # The step starts with nothing allocated; each record holds until the next one.
    times = [0.0] + [point.time_us / 1000.0 for point in points]
    values = [baseline / divisor] + [(baseline + point.bytes_in_use) / divisor for point in points]
    return times, values


def _tail(name, width=60):
    # Op names run to 100+ characters; their end (block, op) is the informative part, and a
    # longer legend line would run off the fixed-size figure.
    return name if len(name) <= width else "..." + name[-(width - 3):]


def _wrapped(name, width=90):
    """The peak op's whole name over as many lines as it needs, broken after its scopes' slashes."""
    lines, line = [], ""
    for part in name.replace("/", "/\0").split("\0"):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join(lines + [line])


def _new_figure(size, layout=None):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _finish(axes, top):
    # Headroom above the peak, and the legend under the axes so it never hides a curve.
    axes.set_ylim(0, max(top, 1) * 1.08)
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize="small", frameon=False)
    axes.figure.tight_layout()


#: Formats a figure can be written in, by file extension (matplotlib's Agg, PDF and SVG backends).
FORMATS = ("png", "pdf", "svg")


def figure_format(path):
    """The format a figure file's extension names ('png' for `cmp.png`), or None for another one."""
    import os
    extension = os.path.splitext(str(path))[1].lower().lstrip(".")
    return extension if extension in FORMATS else None


def _png(figure, fmt="png"):
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=DPI)
    return buffer.getvalue()


PHASE_COLOURS = {"forward": "tab:blue", "backward": "tab:orange", "update": "tab:green"}
PHASE_ALPHA = 0.12
# Not the phases' colours: the category figure shows both.
CATEGORY_COLOURS = {"activation": "tab:cyan", "gradient": "tab:red", "update": "tab:olive",
                    "optimizer_state": "tab:purple", "input": "tab:gray", "other": "tab:brown"}
CATEGORY_LABELS = {"activation": "activations (forward, loss)", "gradient": "gradients (backward, feedback)",
                   "update": "updates", "optimizer_state": "optimizer state", "input": "input",
                   "other": "other"}


def _shade_phases(axes, spans, strip=False):
    """The PhaseSpans shaded in their phase's colour, over the whole height or (strip) as a band
    along the top: one collection per phase (thousands of spans in a large step), one legend
    entry each."""
    for phase, colour in PHASE_COLOURS.items():
        ranges = [(span.start_us / 1000.0, max(span.end_us - span.start_us, 1) / 1000.0)
                  for span in spans if span.phase == phase]
        if not ranges:
            continue
        low, height = (0.96, 0.04) if strip else (0.0, 1.0)
        axes.broken_barh(ranges, (low, height), transform=axes.get_xaxis_transform(), facecolors=colour,
                         alpha=0.6 if strip else PHASE_ALPHA, linewidth=0,
                         label=f"{phase} phase" + (" (strip along the top)" if strip else ""))


def _figure_legend(figure, axes_list, columns=2):
    handles, labels = [], []
    for axes in axes_list:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    # The curves and marks first, then the phases in their order.
    def place(i):
        phase = labels[i].split(" phase", 1)[0] if " phase" in labels[i] else None
        return (1, list(PHASE_COLOURS).index(phase)) if phase in PHASE_COLOURS else (0, i)

    order = sorted(range(len(labels)), key=place)
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncols=columns, fontsize="small", frameon=False)


def _wrapped_title(text, width=100):
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


def timeline_png(figure_data):
    return _png(draw_timeline(figure_data))


def timeline_by_category_png(figure_data):
    return _png(draw_timeline_by_category(figure_data))


PERSISTENT_BANDS = (("weights", "0.62", "persistent: weights"),
                    ("optimizer_state", "0.74", "persistent: optimizer state (slots, beta powers)"),
                    ("other_variables", "0.86", "persistent: other variables (feedback matrices, moving statistics)"))


def _persistent_bands(axes, data, divisor):
    """The persistent memory under the curve: one grey band per kind when the figure knows them."""
    persistent = data.persistent_bytes
    if not persistent:
        return
    if data.persistent_by_kind is None:
        axes.axhspan(0, persistent / divisor, color="0.8",
                     label=f"persistent: variables, optimizer slots, feedback matrices ({format_bytes(persistent)})")
        return
    low = 0
    for kind, grey, label in PERSISTENT_BANDS:
        size = data.persistent_by_kind.get(kind, 0)
        if size:
            axes.axhspan(low / divisor, (low + size) / divisor, color=grey, linewidth=0,
                         label=f"{label} ({format_bytes(size)})")
            low += size


def draw_timeline(figure_data):
    """The matplotlib Figure of timeline.png, for a tracing.figures.TimelineFigure: above, the
    memory in use (the persistent memory as a grey band, the busiest device's allocations on it,
    the budget line of a memory_budget run); below, the step's allocations alone, on their own
    scale, so that a small transient stays readable beside a large persistent band. Phases
    shaded, the peak marked in both."""
    data = figure_data
    figure = _new_figure(TIMELINE_FIGURE_SIZE, layout="constrained")
    total_axes, step_axes = figure.subplots(2, 1, sharex=True, height_ratios=(1, 1))
    persistent = data.persistent_bytes
    busiest = data.busiest
    step_largest, budget, room = data.step_largest, data.budget_bytes, data.budget_room
    largest = max(persistent + step_largest, budget if data.budget_on_axis else 0)
    step_top = max(step_largest, room or 0)
    divisor, unit = byte_unit(largest)
    step_divisor, step_unit = byte_unit(step_top)
    for axes in (total_axes, step_axes):
        _shade_phases(axes, data.phase_spans)
    _persistent_bands(total_axes, data, divisor)
    for number, (label, points) in enumerate(data.series):
        times, values = _step_curve(points, persistent if number == 0 else 0, divisor)
        (line,) = total_axes.step(times, values, where="post", linewidth=1.2 if number == 0 else 0.8, label=label)
        times, values = _step_curve(points, 0, step_divisor)
        step_axes.step(times, values, where="post", linewidth=1.2 if number == 0 else 0.8, color=line.get_color())
    if budget is not None:
        total_axes.axhline(budget / divisor, color="crimson", linestyle="--", linewidth=1.2,
                           label=f"memory_budget ({format_bytes(budget)}"
                                 f"{'' if data.budget_on_axis else ', far above this axis'})")
    if room is not None:
        step_axes.axhline(room / step_divisor, color="crimson", linestyle=":", linewidth=1.2,
                          label=f"budget less persistent ({format_bytes(room)})")
    if data.peak_index is not None and busiest:
        peak = busiest[data.peak_index]
        total_axes.plot([peak.time_us / 1000.0], [(persistent + peak.bytes_in_use) / divisor], marker="v",
                        color="red", linestyle="none",
                        label=f"peak: {format_bytes(peak.bytes_in_use)} allocated by the step "
                              f"(+ persistent = {format_bytes(peak.bytes_in_use + persistent)}), "
                              f"at\n{_wrapped(peak.op_name)}")
        step_axes.plot([peak.time_us / 1000.0], [peak.bytes_in_use / step_divisor], marker="v", color="red",
                       linestyle="none")
    total_axes.set_ylabel(f"in use, persistent + step ({unit})")
    step_axes.set_ylabel(f"allocated by the step ({step_unit})")
    step_axes.set_xlabel("time since the start of the step (ms)")
    total_axes.set_title("memory in use", fontsize="medium")
    step_axes.set_title("the step's allocations alone (the transient), on their own scale", fontsize="medium")
    # A step may free a buffer allocated before it (a variable's old copy): its curve dips below 0.
    step_lowest = min([0] + [point.bytes_in_use for _, points in data.series for point in points])
    for axes, bottom, top in ((total_axes, 0, largest / divisor),
                              (step_axes, step_lowest / step_divisor, step_top / step_divisor)):
        axes.set_ylim(bottom * 1.08, (top or 1) * 1.08)
        axes.grid(True, alpha=0.3)
    figure.suptitle(_wrapped_title(data.title))
    _figure_legend(figure, (total_axes, step_axes))
    return figure


def draw_timeline_by_category(figure_data):
    """The Figure of timeline_by_category.png: the busiest device's allocations by the step,
    stacked by the category of the op that allocated each buffer (memory_viz's active-memory timeline, by
    category), the phases as a strip along the top and the peak as a dashed line."""
    data = figure_data
    series = data.categories
    figure = _new_figure(CATEGORY_FIGURE_SIZE, layout="constrained")
    axes = figure.add_subplot(1, 1, 1)
    largest = max([1] + [series.total(i) for i in range(len(series.times_us))])
    divisor, unit = byte_unit(largest)
    times = [0.0] + [time / 1000.0 for time in series.times_us]
    low = [0.0] * len(times)
    peak = data.busiest[data.peak_index] if data.peak_index is not None and data.busiest else None
    for category, values in series.bytes_by_category.items():
        high = [below + value / divisor for below, value in zip(low, [0] + list(values))]
        at_peak = f": {format_bytes(values[data.peak_index])} at the peak" if peak is not None else ""
        axes.fill_between(times, low, high, step="post", color=CATEGORY_COLOURS[category], alpha=0.75,
                          linewidth=0, label=CATEGORY_LABELS[category] + at_peak)
        low = high
    _shade_phases(axes, data.phase_spans, strip=True)
    if peak is not None:
        axes.axvline(peak.time_us / 1000.0, color="red", linestyle="--", linewidth=1,
                     label=f"peak: {format_bytes(peak.bytes_in_use)} allocated by the step")
    axes.set_xlabel("time since the start of the step (ms)")
    axes.set_ylabel(f"allocated by the step ({unit})")
    lowest = min([0] + [value for values in series.bytes_by_category.values() for value in values])
    axes.set_ylim(lowest / divisor * 1.12, largest / divisor * 1.12)
    axes.grid(True, alpha=0.3)
    axes.set_title(_wrapped_title(data.title.replace("Memory of one training step",
                                                     "The step's memory by category")))
    _figure_legend(figure, (axes,), columns=3)
    return figure


def compare_png(series, title, baselines=None, fmt="png"):
    """series: [(legend label, timeline points)], one curve per run, overlaid, each peak marked
    in its curve's colour. baselines: per run, bytes under its curve (its persistent memory, for
    `compare --persistent`); fmt: png, pdf or svg."""
    figure = _new_figure(COMPARE_FIGURE_SIZE)
    axes = figure.add_subplot(1, 1, 1)
    baselines = baselines or [0] * len(series)
    largest = max([0] + [base + point.bytes_in_use for (_, points), base in zip(series, baselines)
                         for point in points])
    divisor, unit = byte_unit(largest)
    for (label, points), base in zip(series, baselines):
        times, values = _step_curve(points, base, divisor)
        (line,) = axes.step(times, values, where="post", linewidth=1.2, label=label)
        if points:
            at = max(range(len(values)), key=values.__getitem__)
            axes.plot([times[at]], [values[at]], marker="v", markersize=8, color=line.get_color(),
                      linestyle="none")
            axes.annotate(format_bytes(int(round(values[at] * divisor))), (times[at], values[at]),
                          textcoords="offset points", xytext=(4, 4), fontsize="small", color=line.get_color())
    axes.set_xlabel("time since the start of the step (ms)")
    what = "memory in use: persistent + allocated by the step" if any(baselines) else "memory allocated by the step"
    axes.set_ylabel(f"{what} ({unit})")
    axes.set_title(title)
    _finish(axes, largest / divisor)
    return _png(figure, fmt)
