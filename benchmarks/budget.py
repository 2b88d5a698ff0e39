"""Budgeted BPCKPT: the planned plan's measured total against its budget, and its speed against
the uniform segments that fit the same budget.

    python -m benchmarks.budget [--quick] [--fresh]

For long_fc (30 blocks), long_conv (20), vgg_16 and resnet_18 on synthetic 32x32x3, batch 32,
momentum SGD, budgets = persistent + {5, 10, 25, 50, 75}% of BP's traced transient peak:
the budget planner's plan (planning.budget_plan, on the memory model of the benchmark's graph)
is built, traced (median of three steps after warm-up) and timed, beside BP, every uniform
segment_size (one per number of segments), DFAMEM and DRTP. Every session of a network is
timed in turns (common.interleaved_step_times: thirty steps each, in ten turns), so the ratios
hold on a loaded machine.
Targets: the measured total <= the budget in every case; the planned step time <= that of the
fastest uniform plan whose measured total fits the same budget.
Each network's rows are written to the CSV when measured; a rerun measures only the networks
the CSV lacks. Writes results/budget.{csv,md,png}.
"""
import statistics

from benchmarks import common
from benchmarks.prediction import memory_model

NAME = "budget"
EARLIER_KERNELS = "Eigen"  # rows written before the kernels column were measured on Eigen's kernels
SHARES = (0.05, 0.10, 0.25, 0.50, 0.75)
SMALLEST = "smallest"  # the share column's value for the smallest budget the planner names
BATCH = 32
COLUMNS = ["network", "kernels", "kind", "share", "budget_bytes", "plan", "predicted_total_bytes", "measured_total_bytes",
           "margin_bytes", "median_step_ms", "fastest_fitting_uniform", "uniform_step_ms", "time_ratio"]


def networks(quick=False):
    shape = (32, 32, 3)
    if quick:
        return [common.Network("long_fc_8", "long_fc", 8, (16, 16, 1), width=128)]
    return [common.Network("long_fc_30", "long_fc", 30, shape), common.Network("long_conv_20", "long_conv", 20, shape,
                                                                               width=32),
            common.named("vgg_16", shape), common.named("resnet_18", shape)]


def uniform_sizes(blocks):
    """The smallest segment_size for each number of segments: every distinct uniform plan."""
    by_count = {}
    for size in range(1, blocks + 1):
        by_count.setdefault(-(-blocks // size), size)
    return sorted(by_count.values())


def measure(network, shares=SHARES, steps=30, rounds=10, warmup=3, traces=3, threads=None, log=print):
    from planning.budget_plan import BudgetPlanner, InfeasibleBudget
    from planning.checkpoint_plan import uniform

    benches = {}
    try:
        benches["BP"] = common.Bench(network, "BP", threads=threads, batch_size=BATCH)
        model = memory_model(network, benches["BP"].blocks, "stored", threads)
        planner = BudgetPlanner(model, BATCH)
        totals = {}

        def traced(key):
            bench = benches[key]
            bench.run(warmup)
            totals[key] = int(statistics.median(bench.trace() for _ in range(traces))) + bench.persistent_bytes()
            return totals[key]

        bp_peak = traced("BP") - benches["BP"].persistent_bytes()
        uniform_keys = {}  # plan as written -> its bench: a planned plan that is uniform is that graph
        for size in uniform_sizes(len(model.blocks)):
            benches[f"uniform {size}"] = common.Bench(network, "BPCKPT", threads=threads, batch_size=BATCH,
                                                      segment_size=size)
            uniform_keys[str(uniform(len(model.blocks), size))] = f"uniform {size}"
            traced(f"uniform {size}")
        persistent = benches[f"uniform {size}"].persistent_bytes()
        plans = {}

        def run_plan(found, label):
            """The bench of a planned plan (a uniform one's own, if it is uniform), traced once."""
            key = uniform_keys.get(str(found.plan), f"planned {label}")
            if key not in benches:
                benches[key] = common.Bench(network, "BPCKPT", threads=threads, batch_size=BATCH,
                                            checkpoint_plan=str(found.plan))
                traced(key)
            return key

        for share in shares:
            budget = persistent + int(share * bp_peak)
            try:
                found = planner.plan(budget)
            except InfeasibleBudget as error:
                plans[share] = (budget, None, error.smallest_bytes)
                log(f"{network.name} {share:.0%}: no plan ({error})")
                continue
            key = run_plan(found, f"{share:.0%}")
            plans[share] = (budget, found, key)
            log(f"{network.name} {share:.0%}: budget {budget / common.MIB:.1f} MiB, plan {found.plan}, measured "
                f"{totals[key] / common.MIB:.1f} MiB ({key})")
        # No over-caution: at the smallest budget the planner names, its plan's traced total.
        smallest = planner.smallest_bytes()
        found = planner.plan(smallest)
        key = run_plan(found, SMALLEST)
        plans[SMALLEST] = (smallest, found, key)
        log(f"{network.name} smallest budget {smallest / common.MIB:.2f} MiB: plan {found.plan}, measured "
            f"{totals[key] / common.MIB:.2f} MiB")
        for kind in ("DFAMEM", "DRTP"):
            benches[kind] = common.Bench(network, kind, threads=threads, batch_size=BATCH)
            traced(kind)
        # Plans a block or two of recomputation apart differ by a few percent: thirty steps in ten
        # turns keep the machine's noise below that (twelve in six did not).
        times = common.interleaved_step_times(benches, steps, warmup=warmup, rounds=rounds)
    finally:
        for bench in benches.values():
            bench.close()
    step_ms = {key: common.median_ms(value) for key, value in times.items()}
    return rows_of(network, plans, totals, step_ms)


def rows_of(network, plans, totals, step_ms):
    rows = []
    for key, total in totals.items():  # every graph measured, the planned ones that are not uniform too
        rows.append(dict(_blank(network), kind=key, measured_total_bytes=total, median_step_ms=step_ms[key]))
    for share, (budget, found, key) in plans.items():
        row = dict(_blank(network), kind="planned", share=share, budget_bytes=budget)
        fitting = [key for key in totals if key.startswith("uniform") and totals[key] <= budget]
        fastest = min(fitting, key=lambda key: step_ms[key]) if fitting else None
        row.update(fastest_fitting_uniform=fastest, uniform_step_ms=step_ms[fastest] if fastest else None)
        if found is None:
            row.update(plan="none", predicted_total_bytes=key)  # key: the smallest feasible budget
        else:
            planned_ms, measured = step_ms[key], totals[key]
            row.update(plan=str(found.plan), predicted_total_bytes=found.prediction.total_bytes,
                       measured_total_bytes=measured, margin_bytes=budget - measured, median_step_ms=planned_ms,
                       time_ratio=planned_ms / step_ms[fastest] if fastest else None)
        rows.append(row)
    return rows


def _blank(network):
    from training.kernels import kernel_family
    return {column: None for column in COLUMNS} | {"network": network.name, "kernels": kernel_family().library}


def report(rows, out_dir=None, log=print):
    planned = [row for row in rows if row["kind"] == "planned" and row["share"] != SMALLEST]
    fitted = [row for row in planned if row["measured_total_bytes"] is not None]
    floors = [row for row in rows if row["kind"] == "planned" and row["share"] == SMALLEST]
    ratios = [row["time_ratio"] for row in fitted if row["time_ratio"] is not None]
    table_rows = [{"network": row["network"], "kernels": row["kernels"], "share": f"{row['share']:.0%}",
                   "budget": f"{row['budget_bytes'] / common.MIB:.1f}",
                   # A plan's '|' would cut the markdown cell.
                   "plan": (row["plan"] if len(str(row["plan"])) <= 40 else str(row["plan"])[:37] + "...")
                   .replace("|", "\\|"),
                   "measured": "-" if row["measured_total_bytes"] is None else
                   f"{row['measured_total_bytes'] / common.MIB:.1f}",
                   "margin": "-" if row["margin_bytes"] is None else f"{row['margin_bytes'] / common.MIB:+.2f}",
                   "uniform": row["fastest_fitting_uniform"] or "none fits",
                   "ratio": "-" if row["time_ratio"] is None else f"{row['time_ratio']:.2f}"} for row in planned]
    table = common.markdown_table(list(table_rows[0]), table_rows, {
        "share": "budget: persistent + share of BP's peak", "budget": "budget MiB", "measured": "measured total MiB",
        "margin": "budget - measured MiB", "uniform": "fastest uniform that fits", "ratio": "step time / uniform's"})
    over = sum(row["measured_total_bytes"] > row["budget_bytes"] for row in fitted + floors)
    checks = [("planned cases whose measured total exceeds the budget", over, 0, over == 0)]
    if floors:
        caution = max(1 - row["measured_total_bytes"] / row["budget_bytes"] for row in floors)
        checks.append(("smallest feasible budget: largest (budget - measured) / budget", caution, 0.05,
                       caution <= 0.05))
    floor_table = common.markdown_table(
        ["network", "kernels", "budget", "plan", "measured", "caution"],
        [{"network": row["network"], "kernels": row["kernels"], "budget": f"{row['budget_bytes'] / common.MIB:.2f}",
          "plan": str(row["plan"]).replace("|", "\\|")[:40],
          "measured": f"{row['measured_total_bytes'] / common.MIB:.2f}",
          "caution": f"{1 - row['measured_total_bytes'] / row['budget_bytes']:.3f}"} for row in floors],
        {"budget": "smallest feasible budget MiB", "measured": "its plan's measured total MiB",
         "caution": "(budget - measured) / budget"}) if floors else ""
    if ratios:
        checks += [("planned step time / fastest fitting uniform's: median", statistics.median(ratios), 1.0,
                    statistics.median(ratios) <= 1.0),
                   ("planned step time / fastest fitting uniform's: largest", max(ratios), 1.0, max(ratios) <= 1.0)]
    notes = f"""{common.targets_markdown(checks)}
{floor_table}

Batch {BATCH}, synthetic 32x32x3 (long_fc: its 30 blocks of 500 units), momentum SGD. "none fits": no
uniform segment_size's measured total fits the budget (where nesting is the only exact option).
Infeasible budgets show plan "none" (the planner names the smallest feasible budget).
Kernels: the `kernels` column; {common.machine_line()}.

![budget](budget.png)

Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.budget`, then `TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.budget`
(each family's networks are measured once; `--fresh` measures this family's again).
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "A memory budget in, a checkpointing plan out",
                          table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir))
    log(table + "\n" + notes)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys((row["network"], row.get("kernels")) for row in rows))
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.0), squeeze=False)
    for axis, (name, kernels) in zip(axes[0], names):
        mine = [row for row in rows if (row["network"], row.get("kernels")) == (name, kernels)
                and row["measured_total_bytes"] is not None]
        styles = {"BP": ("s", "C0"), "DFAMEM": ("^", "C2"), "DRTP": ("v", "C3")}
        for row in mine:
            if row["kind"].startswith("planned "):
                continue  # drawn from its share's row
            x, y = row["median_step_ms"], row["measured_total_bytes"] / common.MIB
            if row["kind"] == "planned":
                axis.plot(x, y, "*", color="C1", markersize=11, label="planned BPCKPT")
                axis.annotate(_share_label(row["share"]), (x, y), fontsize=7, xytext=(4, 3),
                              textcoords="offset points")
                axis.axhline(row["budget_bytes"] / common.MIB, color="C1", alpha=0.25, linewidth=0.8)
            elif row["kind"].startswith("uniform"):
                axis.plot(x, y, "o", color="C7", label="uniform BPCKPT")
                axis.annotate(row["kind"].split()[1], (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points")
            else:
                marker, color = styles[row["kind"]]
                axis.plot(x, y, marker, color=color, markersize=8, label=row["kind"])
        handles, labels = axis.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        axis.legend(unique.values(), unique.keys(), fontsize=7)
        axis.set_title(f"{name} ({kernels})" if kernels else name, fontsize=10)
        axis.set_xlabel("median step time (ms)")
        axis.set_ylabel("measured total (MiB)")
        axis.grid(alpha=0.3)
    figure.suptitle("budgets (lines) and what each plan measured", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _share(text):
    return text if text == SMALLEST else float(text)


def _share_label(share):
    return "floor" if share == SMALLEST else f"{share:.0%}"


def measured_rows(path):
    return common.read_rows(path, {"share": _share, "budget_bytes": int, "predicted_total_bytes": int,
                                   "measured_total_bytes": int, "margin_bytes": int, "median_step_ms": float,
                                   "uniform_step_ms": float, "time_ratio": float})


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true",
                        help="measure every network of this kernel family again (the other family's rows are kept)")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    path = common.result_path(NAME, "csv", args.out)
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = measured_rows(path)
    for row in rows:
        row["kernels"] = row.get("kernels") or EARLIER_KERNELS
    if args.fresh:
        rows = [row for row in rows if row["kernels"] != library]
    for network in networks(args.quick):
        if any(row["network"] == network.name and row["kernels"] == library for row in rows):
            continue
        rows += measure(network, threads=args.threads)
        common.write_csv(path, COLUMNS, rows)
    report(rows, args.out)


if __name__ == "__main__":
    main()
