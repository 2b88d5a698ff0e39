"""Median training-step time of every type, as a multiple of BP's, per kernel family.

    python -m benchmarks.step_time [--quick] [--steps N] [--append]

For each network the six types are built side by side (same data, momentum SGD, the same session
settings as a run), warmed up, then timed in turns: a few steps of each type, round after round,
so that load from other processes falls on every type alike. The median over at least 30 timed
steps is reported with its ratio to BP's. The memory_vs_depth networks at batch 100, vgg_16 and
resnet_18 on 32x32x3 at batch 16. Run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=1`, then
`=0 ... --append`, which keeps the other family's rows). Writes results/step_time.{csv,md}.
"""
from benchmarks import common
from benchmarks.memory_vs_depth import networks as depth_networks

COLUMNS = ["network", "kernels", "type", "blocks", "batch_size", "median_step_ms", "ratio_to_bp", "steps"]
NAME = "step_time"
#: type -> the largest step-time ratio to BP that the speed issue asks for, per family.
LIMITS = {"FA": 1.05, "DFA": 0.75, "DRTP": 0.75, "DFAMEM": 1.10, "BPCKPT": 1.35}
#: the networks the targets are checked on.
TARGET_NETWORKS = ("long_fc_20", "long_fc_30", "vgg_16")
CONV_BATCH = 16


def networks(quick=False):
    """[(network, batch size)]."""
    if quick:
        return [(network, common.BATCH_SIZE) for network in depth_networks(quick)]
    return ([(network, common.BATCH_SIZE) for network in depth_networks()]
            + [(common.named("vgg_16"), CONV_BATCH), (common.named("resnet_18"), CONV_BATCH)])


def measure(nets, types=common.TYPES, steps=30, warmup=5, threads=None, log=print):
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network, batch_size in nets:
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
            rows.append({"network": network.name, "kernels": library, "type": algorithm, "blocks": network.blocks,
                         "batch_size": batch_size, "median_step_ms": medians[algorithm], "ratio_to_bp": ratio,
                         "steps": len(times[algorithm])})
            log(f"{network.name:>14} {library:>6} {algorithm:>7}: {medians[algorithm]:8.2f} ms"
                + (f"  ({ratio:.3f} x BP)" if ratio is not None else ""))
    return rows


def targets(rows):
    """Every type's ratio to BP against its limit, on each target network and kernel family."""
    return [(f"{r['type']} / BP, {r['network']}, {r['kernels']}", r["ratio_to_bp"], LIMITS[r["type"]],
             r["ratio_to_bp"] <= LIMITS[r["type"]])
            for r in rows if r["network"] in TARGET_NETWORKS and r["type"] in LIMITS and r["ratio_to_bp"] is not None]


def table(rows):
    types = list(dict.fromkeys(r["type"] for r in rows))
    lines = []
    for key in dict.fromkeys((r["network"], r["kernels"]) for r in rows):
        mine = {r["type"]: r for r in rows if (r["network"], r["kernels"]) == key}
        line = {"network": key[0], "kernels": key[1], "batch": next(iter(mine.values()))["batch_size"]}
        line.update({kind: (mine[kind]["median_step_ms"] if kind == "BP" else mine[kind]["ratio_to_bp"])
                     for kind in types if kind in mine})
        lines.append(line)
    return common.markdown_table(["network", "kernels", "batch"] + types, lines, {"BP": "BP (ms)"})


def report(rows, out_dir=None, log=print):
    text = table(rows)
    checks = targets(rows)
    notes = ("Columns after BP: median step time as a multiple of BP's on the same network and kernels.\n\n"
             + common.targets_markdown(checks) + f"""
In multiply-adds, with F a forward pass: BP is about 3F (forward, input gradients, weight
gradients), FA 3F, DFAMEM two forward passes and the weight gradients (3F), DFA and DRTP 2F
(no input gradients), BPCKPT with sqrt segments about 4F. On shallow networks fixed per-op costs
weigh more and DFAMEM recomputes the first block, whose input gradient BP never computes.

Median over the timed steps after warm-up; the types take turns (a few steps each, round after
round) so that load from other processes falls on all of them alike. Steps include the tf.data
input pipeline, as in training. Momentum SGD, one session per type with a run's settings (every
op in the caller's thread, one intra-op thread per core). {common.machine_line()}.

Regenerate: `TF_ENABLE_ONEDNN_OPTS=1 python -m benchmarks.step_time`, then
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.step_time --append`.
""")
    common.write_csv(common.result_path(NAME, "csv", out_dir), COLUMNS, rows)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Step time", text, notes)
    log(text + "\n" + common.targets_markdown(checks))


def read_rows(path):
    return common.read_rows(path, {"blocks": int, "batch_size": int, "median_step_ms": float, "ratio_to_bp": float,
                                   "steps": int})


def main(argv=None):
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per type (default 30; 6 with --quick)")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/step_time.csv of other kernel families (run once per family)")
    args = parser.parse_args(argv)
    common.quiet_tensorflow()
    steps = args.steps or (6 if args.quick else 30)
    rows = measure(networks(args.quick), steps=steps, warmup=2 if args.quick else 5, threads=args.threads)
    if args.append and rows:
        kept = [row for row in read_rows(common.result_path(NAME, "csv", args.out))
                if row.get("kernels") != rows[0]["kernels"]]
        rows = kept + rows
    report(rows, args.out)


if __name__ == "__main__":
    main()
