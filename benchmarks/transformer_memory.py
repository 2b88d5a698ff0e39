"""Each type's traced and predicted memory of a transformer's step, against context length and depth.

    python -m benchmarks.transformer_memory [--quick]

Transformers of dim 128 and 4 heads (the `transformer` sequence) on synthetic_tokens (64
tokens), Adam, fixed batch: context lengths 64, 128, 256, 512 and 1024 at 4 layers, then 2, 4,
8 and 12 layers at context 64. Each row is the run's own graph traced (`experiment plan
--verify`'s measurement: warm-up steps, then the median of three traced steps) beside the memory
model's prediction from the blocks' measured kernels. Resumable: rows already in the CSV are
kept, so a run stopped half way continues. Writes results/transformer_memory.{csv,md,png}.
"""
import math

from benchmarks import common

NAME = "transformer_memory"
COLUMNS = ["network", "type", "layers", "context", "batch", "peak_bytes", "persistent_bytes", "total_mib",
           "predicted_peak_bytes", "predicted_persistent_bytes", "predicted_total_mib", "total_error",
           "peak_error", "ratio_to_bp"]
TYPES = {"layers": int, "context": int, "batch": int, "peak_bytes": int, "persistent_bytes": int,
         "total_mib": float, "predicted_peak_bytes": int, "predicted_persistent_bytes": int,
         "predicted_total_mib": float, "total_error": float, "peak_error": float, "ratio_to_bp": float}
DIM, HEADS, VOCAB, BATCH = 128, 4, 64, 8
CONTEXTS, LAYERS = (64, 128, 256, 512, 1024), (2, 4, 8, 12)


def shapes(quick=False):
    """[(layers, context)]: the context sweep at 4 layers, then the depth sweep at context 64."""
    if quick:
        return [(1, 16), (1, 32), (2, 16)]
    return [(4, context) for context in CONTEXTS] + [(layers, 64) for layers in LAYERS if layers != 4]


def _sequence_name(layers, context):
    return f"benchmarks.transformer_memory:transformer_{layers}x{context}"


def __getattr__(name):
    """`transformer_<layers>x<context>`: the sequence of a row, for the network dict's `sequence`."""
    prefix = "transformer_"
    if name.startswith(prefix) and "x" in name[len(prefix):]:
        layers, context = (int(part) for part in name[len(prefix):].split("x"))
        from definitions.sequences import transformer

        # --quick's shapes (at most 64 tokens x layers) are dim 32; every full row is DIM.
        def sequence(output_size):
            return transformer(output_size, layers=layers, dim=DIM if layers * context > 64 else 32,
                               heads=HEADS, context=context)
        return sequence
    raise AttributeError(name)


def config_of(layers, context, algorithm, batch=BATCH):
    from definitions.config import validate
    return validate({"name": f"transformer_{layers}x{context}", "type": algorithm, "dataset_name": "synthetic_tokens",
                     "sequence": _sequence_name(layers, context), "context_length": context,
                     "synthetic_classes": VOCAB, "batch_size": batch, "optimizer": "adam", "seed": 1,
                     "memory_warmup": 2})


def measure(points, types=common.TYPES, out_dir=None, log=print):
    from training.memory_check import measure as traced
    from training.memory_model import memory_model

    path = common.result_path(NAME, "csv", out_dir)
    rows = common.read_rows(path, TYPES)
    done = {(row["network"], row["type"]) for row in rows}
    for layers, context in points:
        model = None
        for algorithm in types:
            config = config_of(layers, context, algorithm)
            if (config.name, algorithm) in done:
                continue
            model = model or memory_model(config)
            prediction = model.predict(algorithm, config.batch_size)
            peak, persistent = traced(config, steps=3)
            row = {"network": config.name, "type": algorithm, "layers": layers, "context": context,
                   "batch": config.batch_size, "peak_bytes": peak, "persistent_bytes": persistent,
                   "total_mib": (peak + persistent) / common.MIB, "predicted_peak_bytes": prediction.peak_bytes,
                   "predicted_persistent_bytes": prediction.persistent_bytes,
                   "predicted_total_mib": prediction.total_bytes / common.MIB,
                   "total_error": prediction.total_bytes / (peak + persistent) - 1,
                   "peak_error": prediction.peak_bytes / peak - 1, "ratio_to_bp": None}
            rows.append(row)
            common.write_csv(path, COLUMNS, _with_ratios(rows))  # one row at a time: resumable
            log(f"{config.name:>18} {algorithm:>7}: total {row['total_mib']:8.2f} MiB measured, "
                f"{row['predicted_total_mib']:8.2f} predicted ({row['total_error']:+.1%})")
    return _with_ratios(rows)


def _with_ratios(rows):
    for row in rows:
        bp = next((r for r in rows if r["network"] == row["network"] and r["type"] == "BP"), None)
        row["ratio_to_bp"] = row["peak_bytes"] / bp["peak_bytes"] if bp else None
    return rows


def targets(rows):
    def peak(algorithm, layers, context=64):
        return next((r for r in rows if r["type"] == algorithm and r["layers"] == layers and r["context"] == context),
                    None)

    checks = []
    shallow, deep = peak("DFAMEM", min(LAYERS)), peak("DFAMEM", max(LAYERS))
    if shallow and deep:
        checks.append((f"DFAMEM peak({max(LAYERS)} layers) / peak({min(LAYERS)} layers)",
                       deep["peak_bytes"] / shallow["peak_bytes"], 1.10))
        if deep["ratio_to_bp"] is not None:
            checks.append((f"DFAMEM peak / BP peak at {max(LAYERS)} layers", deep["ratio_to_bp"], 0.30))
    errors = sorted(abs(r["total_error"]) for r in rows)
    if errors:
        checks.append(("total error, median (absolute, predicted / measured - 1)", errors[len(errors) // 2], 0.02))
        checks.append(("total error, worst", errors[-1], 0.08))
    return [(name, value, limit, value <= limit) for name, value, limit in checks]


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10.4, 3.9), squeeze=False)
    sweeps = (("context", lambda r: r["layers"] == 4, "context length (4 layers)"),
              ("layers", lambda r: r["context"] == 64, "layers (context 64)"))
    for axis, (key, keep, label) in zip(axes[0], sweeps):
        for index, algorithm in enumerate(dict.fromkeys(r["type"] for r in rows)):
            points = sorted((r[key], r["total_mib"], r["predicted_total_mib"]) for r in rows
                            if r["type"] == algorithm and keep(r))
            if not points:
                continue
            line, = axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=algorithm)
            axis.plot([p[0] for p in points], [p[2] for p in points], linestyle="--", color=line.get_color())
        axis.set_xlabel(label)
        axis.set_ylabel("total memory of one step (MiB)")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        common.plain_log_axis(axis.yaxis)
        axis.grid(alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), fontsize=8, frameon=False)
    figure.suptitle(f"Transformer (dim {DIM}, batch {BATCH}): traced (solid) and predicted (dashed)")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(rows, out_dir=None, log=print):
    columns, summary = common.pivot(rows, lambda r: f"{r['total_mib']:.1f} ({r['total_error']:+.1%})")
    table = common.markdown_table(columns, summary)
    checks = targets(rows)
    notes = common.targets_markdown(checks) + f"""
Each cell: the traced total (transient peak + persistent bytes) of one step in MiB, and in
brackets the memory model's error on it. Transformers of dim {DIM}, {HEADS} heads, vocabulary
{VOCAB}, batch {BATCH}, Adam; `transformer_<layers>x<context>`. The attention scores are
(batch, heads, context, context): the context sweep shows their T^2 term, traced and predicted.
{common.machine_line()}.

Regenerate: `python -m benchmarks.transformer_memory` (resumable: rows in the CSV are kept)
"""
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Transformer memory against context and depth",
                          "Total MiB (model error):\n\n" + table, notes)
    plot(rows, common.result_path(NAME, "png", out_dir))
    log(table + "\n" + common.targets_markdown(checks))


def main(argv=None):
    args = common.argument_parser(__doc__.splitlines()[0]).parse_args(argv)
    common.quiet_tensorflow()
    report(measure(shapes(args.quick), out_dir=args.out), args.out)


if __name__ == "__main__":
    main()
