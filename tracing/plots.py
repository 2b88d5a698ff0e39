"""PNG figures of memory timelines, rendered to bytes.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot): no screen is needed, no
global figure state is left behind, and the PNG has a fixed pixel size (FIGURE_SIZE x DPI).
"""
import io

DPI = 100
TIMELINE_FIGURE_SIZE = (10, 5)  # inches: 1000 x 500 pixels
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


def _new_figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI)
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


def timeline_png(series, persistent_bytes, peak_index, title):
    """series: [(label, timeline points)], the busiest device first; the persistent memory is
    the baseline under the busiest device's curve and its peak is marked."""
    figure = _new_figure(TIMELINE_FIGURE_SIZE)
    axes = figure.add_subplot(1, 1, 1)
    busiest = series[0][1] if series else []
    largest = persistent_bytes + max([0] + [point.bytes_in_use for _, points in series for point in points])
    divisor, unit = byte_unit(largest)
    if persistent_bytes:
        axes.axhspan(0, persistent_bytes / divisor, color="0.85",
                     label="persistent: variables, optimizer slots, feedback matrices "
                           f"({format_bytes(persistent_bytes)})")
    for number, (label, points) in enumerate(series):
        baseline = persistent_bytes if number == 0 else 0
        times, values = _step_curve(points, baseline, divisor)
        axes.step(times, values, where="post", linewidth=1.2 if number == 0 else 0.8, label=label)
    if peak_index is not None and busiest:
        peak = busiest[peak_index]
        peak_y = (persistent_bytes + peak.bytes_in_use) / divisor
        axes.plot([peak.time_us / 1000.0], [peak_y], marker="v", color="red", linestyle="none",
                  label=f"peak: {format_bytes(peak.bytes_in_use)} allocated by the step "
                        f"(+ persistent = {format_bytes(peak.bytes_in_use + persistent_bytes)}), "
                        f"at\n{_wrapped(peak.op_name)}")
    axes.set_xlabel("time since the start of the step (ms)")
    axes.set_ylabel(f"memory in use ({unit})")
    axes.set_title(title)
    _finish(axes, largest / divisor)
    return _png(figure)


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
