"""Median training-step time of every type, as a multiple of BP's, per kernel family.

    python -m benchmarks.step_time [--quick] [--steps N] [--processes N] [--networks A,B] [--append]

For each network the six types are built side by side (same data, momentum SGD, the same session
settings as a run), warmed up, then timed in turns: a few steps of each type, round after round,
so that load from other processes falls on every type alike. The median over at least 30 timed
steps is reported with its ratio to BP's. The memory_vs_depth networks at batch 100, vgg_16 and
resnet_18 on 32x32x3 at batch 16. Run once per kernel family (`TF_ENABLE_ONEDNN_OPTS=1`, then
`=0 ... --append`, which keeps the other family's rows). On long_fc BP's median is compared with
its floor measured in the same process (benchmarks/step_floor.py), and DFA's median with its own:
the floors' ratio is what the kernels' GEMM rates allow DFA against BP. One process's ratios
differ from the next's by more than the steps within it do: --processes N times each network in
N processes of its own, one after the other, and pools their steps. --networks times only the
named networks and keeps every other row of the files (both families): the rows a change touches
are measured again, the rest stay. Writes results/step_time.{csv,md} and results/step_floor.csv.
"""
import json
import sys

from benchmarks import common, step_floor
from benchmarks.memory_vs_depth import networks as depth_networks

COLUMNS = ["network", "kernels", "type", "blocks", "batch_size", "median_step_ms", "ratio_to_bp", "steps",
           "flop_ratio"]
NAME = "step_time"
FLOOR_NAME = "step_floor"
#: type -> the largest step-time ratio to BP that the speed issue asks for, per family.
LIMITS = {"FA": 1.05, "DFA": 0.75, "DRTP": 0.75, "DFAMEM": 1.10, "BPCKPT": 1.35}
CONV_BATCH = 16
#: the networks whose BP (and DFA) steps are compared with their floors (the dense ones), and the
#: network and largest ratio asked of BP's (oneDNN).
FLOOR_NETWORKS = ("long_fc_5", "long_fc_10", "long_fc_20", "long_fc_30")
FLOOR_TARGET_NETWORK = "long_fc_30"
FLOOR_LIMIT = 1.25
FLOOR_COLUMNS = ["network", "kernels", "type", "batch_size", "gemm_ms", "gemm_gflops", "bytes_mib", "bandwidth_gbs",
                 "bytes_ms", "floor_ms", "floor_over_bp", "step_ms", "ratio_to_floor"]


def networks(quick=False):
    """[(network, batch size)]."""
    if quick:
        return [(network, common.BATCH_SIZE) for network in depth_networks(quick)]
    return ([(network, common.BATCH_SIZE) for network in depth_networks()]
            + [(common.named("vgg_16"), CONV_BATCH), (common.named("resnet_18"), CONV_BATCH)])


def measure(nets, types=common.TYPES, steps=30, warmup=5, threads=None, log=print, floors=None, processes=1,
            quick=False):
    """Rows of step times, each with the type's FLOPs over BP's (what its arithmetic implies);
    BP's and DFA's floor rows appended to `floors` (a list) for FLOOR_NETWORKS. With processes > 1
    each network is timed in that many processes of its own, one after the other, and the medians
    are over all their steps: the spread between processes is larger than within one. Those
    processes find the network by name in networks(quick)."""
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network, batch_size in nets:
        with_floor = floors is not None and network.name in FLOOR_NETWORKS and "BP" in types
        if processes == 1:
            timed = time_network(network, batch_size, types, steps, warmup, threads, with_floor)
        else:
            timed = _pooled([_time_in_child(network.name, batch_size, types, steps, warmup, threads, with_floor,
                                            quick) for _ in range(processes)])
        times, flop_ratios = timed["times"], timed["flop_ratios"]
        if with_floor and timed["kernels"]:
            rules = [rule for rule in step_floor.RULES if rule in types]
            floors.extend(_floor_rows(network, library, batch_size, timed["kernels"], times, rules, log))
        medians = {algorithm: common.median_ms(times[algorithm]) for algorithm in types}
        for algorithm in types:
            ratio = medians[algorithm] / medians["BP"] if "BP" in medians else None
            rows.append({"network": network.name, "kernels": library, "type": algorithm, "blocks": network.blocks,
                         "batch_size": batch_size, "median_step_ms": medians[algorithm], "ratio_to_bp": ratio,
                         "steps": len(times[algorithm]), "flop_ratio": flop_ratios[algorithm]})
            log(f"{network.name:>14} {library:>6} {algorithm:>7}: {medians[algorithm]:8.2f} ms"
                + (f"  ({ratio:.3f} x BP)" if ratio is not None else ""))
    return rows


def time_network(network, batch_size, types, steps, warmup, threads, with_floor):
    """In this process: {"times": {type or floor bench: [s]}, "flop_ratios": {type: ratio},
    "kernels": the dense kernels' shapes (for the floors) or None}."""
    benches = {algorithm: common.Bench(network, algorithm, threads=threads, batch_size=batch_size)
               for algorithm in types}
    floor_benches, kernels = {}, None
    if with_floor:
        rules = [rule for rule in step_floor.RULES if rule in benches]
        floor_benches = step_floor.benches(benches["BP"].blocks, batch_size, common.session_config(threads),
                                           rules=rules) or {}
        kernels = step_floor.dense_kernels(benches["BP"].blocks) if floor_benches else None
    try:
        times = common.interleaved_step_times({**benches, **floor_benches}, steps, warmup=warmup)
        flop_ratios = {algorithm: bench.flop_ratio() for algorithm, bench in benches.items()}
    finally:
        for bench in [*benches.values(), *floor_benches.values()]:
            bench.close()
    return {"times": times, "flop_ratios": flop_ratios, "kernels": kernels}


def _time_in_child(name, batch_size, types, steps, warmup, threads, with_floor, quick):
    argv = [sys.executable, "-m", "benchmarks.step_time", "--child", name, str(batch_size), ",".join(types),
            str(steps), str(warmup)] + common.threads_argv(threads) + (["--floor"] if with_floor else []) \
        + (["--quick"] if quick else [])
    return common.json_from_child(argv)


def _pooled(parts):
    """The children's results as one: every key's steps together; FLOP ratios and kernels are the
    same in each (they come from the graph)."""
    times = {key: [t for part in parts for t in part["times"][key]] for key in parts[0]["times"]}
    kernels = parts[0]["kernels"] and [tuple(shape) for shape in parts[0]["kernels"]]
    return {"times": times, "flop_ratios": parts[0]["flop_ratios"], "kernels": kernels}


def _child(argv):
    """`--child NAME BATCH TYPES STEPS WARMUP [--threads=..] [--floor] [--quick]`: time_network's
    result as one JSON line."""
    name, batch_size, types, steps, warmup = argv[1], int(argv[2]), tuple(argv[3].split(",")), int(argv[4]), int(argv[5])
    quick = "--quick" in argv
    network = dict((net.name, net) for net, _ in networks(quick))[name]
    common.quiet_tensorflow()
    timed = time_network(network, batch_size, types, steps, warmup, common.threads_from_argv(argv), "--floor" in argv)
    print(json.dumps(timed))


def _floor_rows(network, library, batch_size, kernels, times, rules, log):
    """Each rule's median beside its floor, from the same rounds of turns; BP's row first."""
    stream_s = common.median_ms(times["stream"]) / 1000
    rows = []
    for rule in rules:
        row = {"network": network.name, "kernels": library, "type": rule, "batch_size": batch_size,
               **step_floor.from_times(kernels, batch_size, common.median_ms(times[step_floor.gemm_key(rule)]) / 1000,
                                       stream_s, rule=rule)}
        row["floor_over_bp"] = row["floor_ms"] / (rows[0]["floor_ms"] if rows else row["floor_ms"])
        row["step_ms"] = common.median_ms(times[rule])
        row["ratio_to_floor"] = row["step_ms"] / row["floor_ms"]
        rows.append(row)
        log(f"{network.name:>14} {library:>6} {rule:>7}: {row['step_ms']:8.2f} ms, floor {row['floor_ms']:.2f} ms "
            f"(GEMMs {row['gemm_ms']:.2f} ms at {row['gemm_gflops']:.0f} GFLOP/s, {row['bytes_mib']:.0f} MiB at "
            f"{row['bandwidth_gbs']:.1f} GB/s), ratio {row['ratio_to_floor']:.3f}, floor / BP's {row['floor_over_bp']:.3f}")
    return rows


def floor_targets(floors):
    """BP's step on long_fc_30 within FLOOR_LIMIT of its floor, asked for oneDNN (the other rows are reported)."""
    return [(f"BP / floor, {r['network']}, {r['kernels']}", r["ratio_to_floor"], FLOOR_LIMIT,
             r["ratio_to_floor"] <= FLOOR_LIMIT) for r in floors
            if r["kernels"] == "oneDNN" and r["type"] == "BP" and r["network"] == FLOOR_TARGET_NETWORK]


def floor_table(floors):
    return common.markdown_table(
        ["network", "kernels", "type", "batch_size", "gemm_ms", "gemm_gflops", "bytes_mib", "bandwidth_gbs",
         "bytes_ms", "floor_ms", "floor_over_bp", "step_ms", "ratio_to_floor"], floors,
        {"batch_size": "batch", "gemm_ms": "GEMMs (ms)", "gemm_gflops": "GFLOP/s", "bytes_mib": "bytes (MiB)",
         "bandwidth_gbs": "GB/s", "bytes_ms": "bytes (ms)", "floor_ms": "floor (ms)",
         "floor_over_bp": "floor / BP's", "step_ms": "step (ms)", "ratio_to_floor": "step / floor"})


def targets(rows):
    """Every type's ratio to BP against its limit, on every network and kernel family: the issue
    names long_fc_20, long_fc_30 and vgg_16 and asks the same of networks it does not name."""
    return [(f"{r['type']} / BP, {r['network']}, {r['kernels']}", r["ratio_to_bp"], LIMITS[r["type"]],
             r["ratio_to_bp"] <= LIMITS[r["type"]])
            for r in rows if r["type"] in LIMITS and r["ratio_to_bp"] is not None]


def table(rows, value=lambda row: row["median_step_ms"] if row["type"] == "BP" else row["ratio_to_bp"],
          keys=("network", "kernels"), bp_header="BP (ms)"):
    """One line per network (and kernel family), a column per type: by default BP's median step
    in ms and the other types' ratios to it."""
    types = list(dict.fromkeys(r["type"] for r in rows))
    lines = []
    for key in dict.fromkeys(tuple(r[k] for k in keys) for r in rows):
        mine = {r["type"]: r for r in rows if tuple(r[k] for k in keys) == key}
        line = {**dict(zip(keys, key)), "batch": next(iter(mine.values()))["batch_size"]}
        line.update({kind: value(mine[kind]) for kind in types if kind in mine})
        lines.append(line)
    return common.markdown_table([*keys, "batch"] + types, lines, {"BP": bp_header})


def flop_table(rows):
    """Each type's FLOPs over BP's: one line per network, whatever the kernels."""
    return table([r for r in rows if r.get("flop_ratio") is not None], lambda row: row["flop_ratio"],
                 keys=("network",), bp_header="BP")


def explained_misses(rows):
    """Every missed limit beside the type's FLOP ratio: where that ratio is itself over the limit,
    no implementation of the rule on that network meets it (the issue's limits assume one weight
    layer per block and no first-layer exception); elsewhere the time beyond the FLOPs is the
    kernels' (GEMM shapes that run below the forward's rate, momentum's bytes) or the schedule's."""
    lines = [{"target": f"{r['type']} / BP, {r['network']}, {r['kernels']}", "limit": LIMITS[r["type"]],
              "measured": r["ratio_to_bp"], "flop_ratio": r.get("flop_ratio"),
              "over the limit by": "its FLOPs" if (r.get("flop_ratio") or 0) > LIMITS[r["type"]] else "time beyond its FLOPs"}
             for r in rows if r["type"] in LIMITS and r["ratio_to_bp"] is not None and r["ratio_to_bp"] > LIMITS[r["type"]]]
    if not lines:
        return ""
    return common.markdown_table(["target", "limit", "measured", "flop_ratio", "over the limit by"], lines,
                                 {"flop_ratio": "FLOPs / BP's"})


def report(rows, out_dir=None, log=print, floors=()):
    text = table(rows)
    checks = targets(rows) + floor_targets(floors)
    if floors:
        text += ("\n\nBP's and DFA's floors: each step's GEMMs timed alone in the same process, plus the bytes the "
                 "rest of the step must move at the streaming bandwidth measured there (benchmarks/step_floor.py); "
                 "`floor / BP's`: the ratio to BP that the GEMM rates allow the rule.\n\n" + floor_table(floors))
    if any(r.get("flop_ratio") is not None for r in rows):
        text += ("\n\nFLOPs of each type's step over BP's (planning's layer rules: matmuls, convolutions, feedback "
                 "products, pooling; the same on every kernel family; tests/benchmarks/test_flop_ratio.py holds them "
                 "equal to TensorFlow's own count of the products a traced step ran).\n\n" + flop_table(rows))
    misses = explained_misses(rows)
    notes = ("Columns after BP: median step time as a multiple of BP's on the same network and kernels.\n\n"
             + common.targets_markdown(checks)
             + ("\nEach missed limit beside the type's FLOP ratio (\"its FLOPs\": the FLOP ratio alone is over "
                "the limit, which no implementation of the rule meets on that network).\n\n" + misses
                if misses else "") + f"""
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
    if floors:
        common.write_csv(common.result_path(FLOOR_NAME, "csv", out_dir), FLOOR_COLUMNS, floors)
    common.write_markdown(common.result_path(NAME, "md", out_dir), "Step time", text, notes)
    log(text + "\n" + common.targets_markdown(checks))


def read_floor_rows(path):
    rows = common.read_rows(path, {column: float for column in FLOOR_COLUMNS[4:] + ["bp_ms"]} | {"batch_size": int})
    for row in rows:  # a file from before DFA's floor: BP's rows only, its step under "bp_ms"
        if "type" not in row:
            row.update(type="BP", floor_over_bp=1.0, step_ms=row.pop("bp_ms"))
    return rows


def read_rows(path):
    return common.read_rows(path, {"blocks": int, "batch_size": int, "median_step_ms": float, "ratio_to_bp": float,
                                   "steps": int, "flop_ratio": float})


def _chosen(nets, names, parser):
    """The (network, batch) pairs of `nets` named in the comma-separated `names`; an unknown name is
    a usage error naming the closest known one."""
    from definitions.names import suggestion
    known = {network.name: (network, batch) for network, batch in nets}
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    for name in chosen:
        if name not in known:
            parser.error(f"--networks: unknown network {name!r}{suggestion(name, known)}; "
                         f"known: {', '.join(known)}")
    if not chosen:
        parser.error("--networks: no network named")
    return [known[name] for name in chosen]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv)
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per type (default 30; 6 with --quick)")
    parser.add_argument("--processes", type=int, default=1,
                        help="time each network in this many processes of its own, one after the other, and pool "
                             "their steps (default 1: in this process)")
    parser.add_argument("--networks", default=None,
                        help="comma-separated names: time only these networks and keep every other row of the "
                             "results (both kernel families)")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of results/step_time.csv of other kernel families (run once per family)")
    args = parser.parse_args(argv)
    nets = networks(args.quick)
    if args.networks is not None:
        nets = _chosen(nets, args.networks, parser)
    common.quiet_tensorflow()
    steps = args.steps or (6 if args.quick else 30)
    floors = []
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    rows = measure(nets, steps=steps, warmup=2 if args.quick else 5, threads=args.threads,
                   floors=floors, processes=args.processes, quick=args.quick)
    if args.networks is not None:
        rows = common.replace_rows(read_rows(common.result_path(NAME, "csv", args.out)), rows)
        floors = common.replace_rows(read_floor_rows(common.result_path(FLOOR_NAME, "csv", args.out)), floors,
                                     keys=("kernels", "network", "type"))
    elif args.append and rows:
        family = rows[0]["kernels"]
        rows = common.keep_other_families(rows, read_rows(common.result_path(NAME, "csv", args.out)))
        floors = [row for row in read_floor_rows(common.result_path(FLOOR_NAME, "csv", args.out))
                  if row.get("kernels") != family] + floors
    report(rows, args.out, floors=floors)


if __name__ == "__main__":
    main()
