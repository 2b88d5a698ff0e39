"""Median training-step time of every type on the memory_vs_depth networks.

    python -m benchmarks.step_time [--quick] [--steps N]

For each network the six types are built side by side (same data, batch 100, momentum SGD,
same session thread settings), warmed up, then timed in turns: a few steps of each type, round
after round, so that load from other processes falls on every type alike. The median over at
least 30 timed steps is reported with its ratio to BP's. Writes results/step_time.{csv,md}.
"""
from benchmarks import common
from benchmarks.memory_vs_depth import networks

COLUMNS = ["network", "type", "blocks", "median_step_ms", "ratio_to_bp", "steps"]
NAME = "step_time"
#: type -> the largest step-time ratio to BP that the issue asks for.
LIMITS = {"DFA": 0.80, "DRTP": 0.80, "DFAMEM": 1.20, "BPCKPT": 1.40}


def measure(nets, types=common.TYPES, steps=30, warmup=5, batch_size=common.BATCH_SIZE, threads=None, log=print):
    rows = []
    for network in nets:
        benches = {algorithm: common.Bench(network, algorithm, threads=threads, batch_size=batch_size)
                   for algorithm in types}
        try:
            times = common.interleaved_step_times(benches, steps, warmup=warmup)
        finally:
            for bench in benches.values():
                bench.close()
        medians = {algorithm: common.median_ms(times[algorithm]) for algorithm in types}
        for algorithm in types:
            ratio = medians[algorithm] / medians["BP"] if "BP" in medians else None
            rows.append({"network": network.name, "type": algorithm, "blocks": network.blocks,
                         "median_step_ms": medians[algorithm], "ratio_to_bp": ratio,
                         "steps": len(times[algorithm])})
            log(f"{network.name:>14} {algorithm:>7}: {medians[algorithm]:8.2f} ms"
                + (f"  ({ratio:.3f} x BP)" if ratio is not None else ""))
    return rows


def targets(rows, network=None):
    """Checks on the deepest MLP (or `network`)."""
    mlps = [r for r in rows if r["network"].startswith("long_fc")]
    if not mlps:
        return []
    name = network or max(mlps, key=lambda r: r["blocks"])["network"]
    return [(f"{r['type']} step time / BP on {name}", r["ratio_to_bp"], LIMITS[r["type"]],
             r["ratio_to_bp"] <= LIMITS[r["type"]])
            for r in rows if r["network"] == name and r["type"] in LIMITS and r["ratio_to_bp"] is not None]


def report(rows, out_dir=None, log=print):
    columns, table_rows = common.pivot(rows, lambda r: r["median_step_ms"] if r["type"] == "BP" else r["ratio_to_bp"])
    table = common.markdown_table(columns, table_rows, {"BP": "BP (ms)"})
    checks = targets(rows)
    notes = ("Columns after BP: median step time as a multiple of BP's on the same network.\n\n"
             + common.targets_markdown(checks) + """
DFA and DRTP skip BP's input-gradient matmuls; DFAMEM runs two forward passes and the weight
gradients (about BP's arithmetic) one block at a time, with nothing to overlap; BPCKPT adds a
forward pass of every segment but the last. On shallow networks fixed per-op costs weigh more
and DFAMEM recomputes the first block, whose input gradient BP never computes.

Median over the timed steps after warm-up; the types take turns (a few steps each, round after
round) so that load from other processes falls on all of them alike. Steps include the tf.data
input pipeline, as in training. Batch 100, momentum SGD, one session per type with the same
thread settings.

Regenerate: `python -m benchmarks.step_time`
""")
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Step time", table, notes)
    log(table + "\n" + common.targets_markdown(checks))


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per type (default 30; 6 with --quick)")
    args = parser.parse_args(argv)
    steps = args.steps or (6 if args.quick else 30)
    rows = measure(networks(args.quick), steps=steps, warmup=2 if args.quick else 5, threads=args.threads)
    report(rows, args.out)


if __name__ == "__main__":
    main()
