"""The rows, tables, CSV and figure of `experiment plan` (training/plan_command.py)."""
import csv
import io

from definitions.files import atomic_write_bytes, atomic_write_text
from definitions.sizes import format_size

CSV_COLUMNS = ["network", "sequence", "type", "batch_size", "predicted_peak_bytes", "predicted_persistent_bytes",
               "predicted_total_bytes", "peak_activation_bytes", "peak_gradient_bytes", "peak_input_bytes",
               # PEPITA's updates are computed under update/ (no backward pass), MEZO's and FGRAD's
               # redrawn perturbations and tangents too (issue 23): the tracer's category.
               "peak_update_bytes",
               "persistent_weight_bytes", "persistent_optimizer_state_bytes", "persistent_other_bytes",
               # The step's FLOPs over BP's (planning's layer rules): what its arithmetic implies for
               # its step time against BP's (benchmarks.step_time measures both).
               "flop_ratio"]
BUDGET_COLUMNS = ["budget_bytes", "fits", "largest_batch_size", "planned_for_budget", "checkpoint_plan",
                  "recompute_fraction"]
PLANNED = "BPCKPT planned"  # the table's name for BPCKPT with the plan searched for the budget
VERIFY_COLUMNS = ["measured_peak_bytes", "measured_persistent_bytes", "peak_relative_error", "total_relative_error"]


def plan(config, types, batch_sizes, budget_bytes, png, csv_path, verify, threads, echo=print, log=False,
         skip_refused=False):
    """skip_refused: a type that refuses the network (FGRAD on a convolution) is left out with a line
    after the table instead of being the error (the default --types, which lists every type)."""
    from definitions.errors import ConfigError
    from training.memory_model import memory_model

    model = memory_model(config, threads)
    types, left_out = _defined_types(model, types)
    sizes = batch_sizes or [config.batch_size]
    rows, refused = [], {}
    for kind in list(types):
        try:
            model.predict(kind, sizes[0])
        except ConfigError as error:
            if not skip_refused:
                raise
            refused[kind] = str(error)
    types = [kind for kind in types if kind not in refused]
    for batch in sizes:
        for kind in types:
            prediction = model.predict(kind, batch)
            at_peak, persistent = prediction.peak_by_category, prediction.persistent_by_kind
            row = {"network": config.name, "sequence": config.sequence, "type": kind, "batch_size": batch,
                   "predicted_peak_bytes": prediction.peak_bytes,
                   "predicted_persistent_bytes": prediction.persistent_bytes,
                   "predicted_total_bytes": prediction.total_bytes,
                   # What is alive at the peak, by the tracer's categories (summary.json's
                   # peak_bytes_by_category), and what the persistent bytes are.
                   "peak_activation_bytes": at_peak.get("activation", 0),
                   "peak_gradient_bytes": at_peak.get("gradient", 0), "peak_input_bytes": at_peak.get("input", 0),
                   "peak_update_bytes": at_peak.get("update", 0),
                   "persistent_weight_bytes": persistent["weights"],
                   "persistent_optimizer_state_bytes": persistent["optimizer_state"],
                   "persistent_other_bytes": persistent["other_variables"],
                   "flop_ratio": round(model.flop_ratio(kind), 4)}
            if verify:
                row.update(_measured(config.replace(type=kind, batch_size=batch), prediction))
            rows.append(row)
    largest = {}
    if budget_bytes is not None:
        largest = {kind: model.largest_batch(kind, budget_bytes) for kind in types}
        for row in rows:
            row.update(budget_bytes=budget_bytes, fits=row["predicted_total_bytes"] <= budget_bytes,
                       largest_batch_size=largest[row["type"]], planned_for_budget=False,
                       checkpoint_plan=_plan_of(model, row), recompute_fraction=round(model.recompute_fraction(
                           row["type"], plan=model.checkpoint_plan), 4))
        if "BPCKPT" in types:
            rows = _with_planned_rows(rows, model, sizes, budget_bytes, config)
    for line in header(config, model, budget_bytes):
        echo(line)
    labels = list(types) + ([PLANNED] if any(row.get("planned_for_budget") for row in rows) else [])
    table = batch_table(rows, labels, sizes) if batch_sizes else type_table(rows, budget_bytes, verify, model)
    for line in table + left_out:
        echo(line)
    for kind, reason in refused.items():
        echo(f"{kind}: not predicted: {reason}")
    if csv_path:
        atomic_write_text(csv_path, csv_text(rows, budget_bytes is not None, verify))
        echo(f"rows: {csv_path}")
    if png:
        atomic_write_bytes(png, figure(rows, labels, budget_bytes, f"{config.name} ({config.sequence}, "
                                       f"{config.dataset_name}): predicted memory of one step", log, largest))
        echo(f"figure: {png}")
    return rows


def _defined_types(model, types):
    """(the types defined on the model's network, a line for each left out); ConfigError if none is."""
    from definitions.errors import ConfigError
    from planning.defined import not_defined
    blocks = [(f"block_{block.index}", [layer.kind for layer in block.layers]) for block in model.blocks]
    reasons = {kind: not_defined(kind, blocks) for kind in types}
    defined = [kind for kind in types if not reasons[kind]]
    if not defined:
        raise ConfigError(reasons[types[0]])
    return defined, [f"{kind} left out: {reasons[kind]}" for kind in types if reasons[kind]]


def _plan_of(model, row):
    if row["type"] != "BPCKPT":
        return None
    from planning.checkpoint_plan import plan_for
    return str(model.checkpoint_plan or plan_for(len(model.blocks), None, model.segment_size))


def _with_planned_rows(rows, model, sizes, budget_bytes, config):
    """After each batch size's BPCKPT row, BPCKPT with the plan the budget planner finds (or why none)."""
    from planning.budget_plan import InfeasibleBudget
    from training.memory_budget import budget_planner
    result = []
    for row in rows:
        result.append(row)
        if row["type"] != "BPCKPT":
            continue
        planner = budget_planner(config, model, row["batch_size"])
        planned = dict(row, planned_for_budget=True, largest_batch_size=None)
        try:
            found = planner.plan(budget_bytes)
        except InfeasibleBudget as error:
            # No plan: no predicted figures (the note names the smallest budget that has one).
            planned.update({column: None for column in CSV_COLUMNS[4:]}, fits=False, checkpoint_plan=None,
                           recompute_fraction=None, infeasible=str(error))
        else:
            prediction = found.prediction
            planned.update(fits=True, checkpoint_plan=str(found.plan), recompute_fraction=round(found.recompute_fraction, 4),
                           flop_ratio=round(model.flop_ratio("BPCKPT", plan=found.plan), 4),
                           time_source=planner.time_source,
                           description=found.plan.describe(), predicted_peak_bytes=prediction.peak_bytes,
                           predicted_total_bytes=prediction.total_bytes,
                           peak_activation_bytes=prediction.peak_by_category.get("activation", 0),
                           peak_gradient_bytes=prediction.peak_by_category.get("gradient", 0),
                           peak_input_bytes=prediction.peak_by_category.get("input", 0),
                           peak_update_bytes=prediction.peak_by_category.get("update", 0))
            if "measured_peak_bytes" in row:
                planned.update(_measured(config.replace(type="BPCKPT", batch_size=row["batch_size"],
                                                        checkpoint_plan=str(found.plan), segment_size=None),
                                         prediction))
        result.append(planned)
    return result


def _measured(config, prediction):
    from training.memory_check import measure
    peak, persistent = measure(config)
    total = peak + persistent
    return {"measured_peak_bytes": peak, "measured_persistent_bytes": persistent,
            "peak_relative_error": round(prediction.peak_bytes / peak - 1, 4) if peak else None,
            "total_relative_error": round(prediction.total_bytes / total - 1, 4) if total else None}


def header(config, model, budget_bytes):
    shape = "x".join(str(d) for d in model.input_shape)
    lines = [f"{config.name}: sequence {config.sequence}, {config.dataset_name} ({shape}, {model.classes} classes), "
             f"optimizer {config.optimizer}, feedback {config.feedback}, {model.threads} intra-op threads"]
    kernels = getattr(model, "kernels", None)
    if kernels is not None:
        lines.append(kernels.report())  # what the predictions are for, and whether they measured or read the cache
    if budget_bytes is not None:
        lines.append(f"budget {format_size(budget_bytes)} ({budget_bytes} bytes) for transient peak + persistent")
    return lines + [""]


def type_table(rows, budget_bytes, verify, model):
    columns = ["type", "batch", "transient peak", "of which activations", "persistent", "total", "FLOPs / BP"]
    if budget_bytes is not None:
        columns += ["fits", "largest batch that fits"]
    if verify:
        columns += ["measured peak", "measured persistent", "peak error", "total error"]
    cells, notes = [], []
    for row in rows:
        if row.get("planned_for_budget"):
            if row.get("infeasible"):
                cells.append([PLANNED, str(row["batch_size"])] + ["-"] * (len(columns) - 2))
                notes.append(f"{PLANNED}, batch {row['batch_size']}: {row['infeasible']}")
                continue
            notes.append(f"{PLANNED}, batch {row['batch_size']}: plan {row['checkpoint_plan']} "
                         f"({row['description']}), recomputation +{100 * row['recompute_fraction']:.0f}% "
                         f"of a BP step ({row['time_source']})")
        line = [label(row), str(row["batch_size"]),
                format_size(row["predicted_peak_bytes"]),
                format_size(row["peak_activation_bytes"]), format_size(row["predicted_persistent_bytes"]),
                format_size(row["predicted_total_bytes"]), f"{row['flop_ratio']:.2f}"]
        if budget_bytes is not None and row.get("planned_for_budget"):
            line += ["yes", "-"]
        elif budget_bytes is not None:
            largest = row["largest_batch_size"]
            if largest is None:
                one = model.predict(row["type"], 1).total_bytes
                largest_text = f"none: batch 1 needs {format_size(one)}"
            else:
                largest_text = str(largest)
            line += ["yes" if row["fits"] else "no", largest_text]
        if verify:
            line += [format_size(row["measured_peak_bytes"]), format_size(row["measured_persistent_bytes"]),
                     f"{row['peak_relative_error']:+.1%}", f"{row['total_relative_error']:+.1%}"]
        cells.append(line)
    return aligned(columns, cells) + ([""] + notes if notes else [])


def label(row):
    return PLANNED if row.get("planned_for_budget") else row["type"]


def batch_table(rows, labels, sizes):
    """Predicted total per type (rows) and batch size (columns); '-' where no plan meets the budget."""
    totals = {(label(row), row["batch_size"]): row["predicted_total_bytes"] for row in rows}
    columns = ["type"] + [f"batch {size}" for size in sizes]
    cells = [[kind] + [format_size(totals[kind, size]) if totals[kind, size] is not None else "-" for size in sizes]
             for kind in labels]
    return aligned(columns, cells) + ["", "predicted total: transient peak + persistent"]


def aligned(columns, cells):
    widths = [max(len(str(row[i])) for row in [columns] + cells) for i in range(len(columns))]
    return ["  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip() for row in [columns] + cells]


def csv_text(rows, with_budget, verify):
    columns = CSV_COLUMNS + (BUDGET_COLUMNS if with_budget else []) + (VERIFY_COLUMNS if verify else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buffer.getvalue()


#: Inches at 100 dpi: 1100 x 600 pixels, the size of `experiment compare`'s figure.
FIGURE_SIZE = (11, 6)
FIGURE_DPI = 100


def figure(rows, labels, budget_bytes, title, log=False, largest=None):
    """PNG bytes: predicted total against batch size, one line per type; the budget as a line
    and, per type, the largest batch that fits it marked on the line. log: log-scaled y axis.
    The y range is the curves' (the budget line is drawn inside it, or named at the edge it lies
    beyond), so a budget far from the curves does not flatten them; the legend sits outside."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGURE_SIZE, dpi=FIGURE_DPI)
    FigureCanvasAgg(fig)
    axis = fig.add_subplot()
    values, stars = [], []
    for kind in labels:
        points = sorted((row["batch_size"], row["predicted_total_bytes"] / 2**20) for row in rows
                        if label(row) == kind and row["predicted_total_bytes"] is not None)
        (line,) = axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=kind)
        values += [p[1] for p in points]
        fits = (largest or {}).get(kind)
        if fits and budget_bytes is not None:
            stars.append((kind, fits, line.get_color()))
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if log:
        from matplotlib.ticker import FuncFormatter
        axis.set_yscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # 4, not 4x10^0
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(plain)
        bottom, top = low / 1.3, high * 1.3
    else:
        bottom, top = 0.0, high * 1.1
    if budget_bytes is not None:
        budget = budget_bytes / 2**20
        budget_label = f"budget {format_size(budget_bytes)}"
        if bottom <= budget <= top * 1.5:
            axis.axhline(budget, color="black", linestyle="--", label=budget_label)
            top = max(top, budget * 1.05)
            for kind, fits, color in stars:  # where each type's line crosses the budget
                axis.plot([fits], [budget], marker="*", markersize=14, color=color, linestyle="none",
                          label=f"{kind}: largest batch within the budget, {fits}")
        else:  # far outside the curves: named, not drawn, so the curves keep the figure's height
            where = "above" if budget > top else "below"
            fits = "; ".join(f"{kind} {fits}" for kind, fits, _ in stars)
            axis.text(0.01, 0.98 if where == "above" else 0.02,
                      f"{budget_label}: {where} every curve" + (f"; largest batch within it: {fits}" if fits else ""),
                      transform=axis.transAxes, va="top" if where == "above" else "bottom", fontsize=9)
    axis.set_ylim(bottom, top)
    axis.set_xscale("log", base=2)
    axis.set_xlabel("batch size")
    axis.set_ylabel("predicted transient peak + persistent (MiB)")
    axis.set_title(title)
    axis.grid(alpha=0.3, which="both" if log else "major")
    axis.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return buffer.getvalue()
