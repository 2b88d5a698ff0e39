"""Step time with glibc's default malloc thresholds and with freed memory kept in the process.

    python -m benchmarks.malloc_settings [--quick] [--out DIR] [--append]

training/malloc_settings.py keeps what a step frees for the next step (runs and benchmarks do it
unless ZPPMEM_MALLOC=default). The setting is process-wide, so each side runs in processes of its
own, alternating (default, keep, default, keep, ...), and every process builds all the types of a
network side by side and times them in turns, as benchmarks.step_time does; it also counts the
minor page faults of the timed steps. Per network, type and setting: the median step over all
that setting's processes, the page faults per step, and the type's ratio to BP under it; per
type, the speed-up (default's median over keep's). Run once per kernel family
(`TF_ENABLE_ONEDNN_OPTS=0 ... --append`). Writes results/malloc_settings.{csv,md}.
"""
import json
import subprocess
import sys

from benchmarks import common, step_time
from training.malloc_settings import DEFAULT, ENV, KEEP, environment_for

NAME = "malloc_settings"
COLUMNS = ["network", "kernels", "type", "batch_size", "setting", "median_step_ms", "faults_per_step", "ratio_to_bp",
           "speedup", "processes", "steps"]
SETTINGS = (DEFAULT, KEEP)


def child(network_name, batch_size, steps, warmup, threads, quick=False):
    """In a process of one setting: {type: {"times": [s], "faults": minor faults over them}}."""
    network = dict((net.name, net) for net, _ in step_time.networks(quick))[network_name]
    benches = {kind: common.Bench(network, kind, threads=threads, batch_size=batch_size) for kind in common.TYPES}
    try:
        faults = {}
        times = common.interleaved_step_times(benches, steps, warmup=warmup, faults=faults)
        return {kind: {"times": times[kind], "faults": faults[kind]} for kind in benches}
    finally:
        for bench in benches.values():
            bench.close()


def _run_child(setting, network_name, batch_size, steps, warmup, threads, quick):
    env = environment_for(setting)
    argv = [sys.executable, "-m", "benchmarks.malloc_settings", "--child", network_name, str(batch_size), str(steps),
            str(warmup)] + ([f"--threads={_threads_text(threads)}"] if threads else []) + (["--quick"] if quick else [])
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({setting}):\n{done.stderr[-2000:]}")
    said = json.loads(done.stdout.strip().splitlines()[-1])
    # The child says what its malloc does: a setting that did not reach it would void the comparison.
    if (said["malloc"].startswith("freed memory kept")) != (setting == KEEP):
        raise RuntimeError(f"the {setting} process ran with {said['malloc']}")
    return said["types"]


def _threads_text(threads):
    return ",".join(map(str, threads)) if isinstance(threads, tuple) else str(threads)


def measure(nets, processes=2, steps=30, warmup=5, threads=None, quick=False, log=print):
    """nets: [(network, batch size)] of step_time.networks(quick), which the child processes look up by name."""
    from training.kernels import kernel_family
    library = kernel_family().library
    rows = []
    for network, batch_size in nets:
        got = {setting: {} for setting in SETTINGS}
        for turn in range(processes):
            for setting in SETTINGS:
                for kind, part in _run_child(setting, network.name, batch_size, steps, warmup, threads, quick).items():
                    mine = got[setting].setdefault(kind, {"times": [], "faults": 0})
                    mine["times"] += part["times"]
                    mine["faults"] += part["faults"]
                log(f"{network.name:>14} {library:>6} {setting:>7}: process {turn + 1} of {processes} done")
        medians = {setting: {kind: common.median_ms(v["times"]) for kind, v in got[setting].items()}
                   for setting in SETTINGS}
        for setting in SETTINGS:
            for kind, value in got[setting].items():
                row = {"network": network.name, "kernels": library, "type": kind, "batch_size": batch_size,
                       "setting": setting, "median_step_ms": medians[setting][kind],
                       "faults_per_step": value["faults"] / len(value["times"]),
                       "ratio_to_bp": medians[setting][kind] / medians[setting]["BP"],
                       "speedup": medians[DEFAULT][kind] / medians[setting][kind],
                       "processes": processes, "steps": len(value["times"])}
                rows.append(row)
                log(f"{network.name:>14} {library:>6} {kind:>7} {setting:>7}: {row['median_step_ms']:8.2f} ms, "
                    f"{row['faults_per_step']:7.0f} faults/step, {row['ratio_to_bp']:.3f} x BP")
    return rows


def networks(quick=False):
    if quick:
        return step_time.networks(quick=True)[:1]
    wanted = ("long_fc_30", "vgg_16")
    return [(net, batch) for net, batch in step_time.networks() if net.name in wanted]


def table(rows, value, header):
    lines = []
    for key in dict.fromkeys((r["network"], r["kernels"], r["setting"]) for r in rows):
        mine = {r["type"]: r for r in rows if (r["network"], r["kernels"], r["setting"]) == key}
        lines.append({"network": key[0], "kernels": key[1], "setting": key[2], **{k: value(r) for k, r in mine.items()}})
    types = list(dict.fromkeys(r["type"] for r in rows))
    return common.markdown_table(["network", "kernels", "setting", *types], lines, {"BP": header})


def report(rows, out_dir=None, log=print):
    text = ("Median step (BP, ms) and each type's ratio to BP under each setting:\n\n"
            + table(rows, lambda r: r["median_step_ms"] if r["type"] == "BP" else r["ratio_to_bp"], "BP (ms)")
            + "\n\nMinor page faults per step:\n\n" + table(rows, lambda r: r["faults_per_step"], "BP")
            + "\n\nSpeed-up from keeping freed memory (default's median step over this setting's):\n\n"
            + table([r for r in rows if r["setting"] == KEEP], lambda r: r["speedup"], "BP"))
    notes = (f"`default`: glibc's thresholds ({ENV}=default); `keep`: training/malloc_settings.py (trim off, mmap "
             "threshold 32 MiB), what runs and the other benchmarks use. Each setting in processes of its own, "
             "alternating; in each, the six types built side by side and timed in turns after warm-up; medians over "
             f"all of a setting's steps. Momentum SGD, a run's session settings. {common.machine_line()}.\n\n"
             + common.regenerate_per_family(NAME) + "\n")
    common.write_results(NAME, COLUMNS, rows, "Malloc settings and step time", text, notes, out_dir, log)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        threads = next((a.split("=", 1)[1] for a in argv if a.startswith("--threads=")), None)
        name, batch_size, steps, warmup = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        result = child(name, batch_size, steps, warmup, common._threads(threads) if threads else None, "--quick" in argv)
        print(json.dumps({"malloc": common.MALLOC, "types": result}))
        return

    def measure_rows(args):
        return measure(networks(args.quick), processes=1 if args.quick else 2, steps=6 if args.quick else 30,
                       warmup=2 if args.quick else 5, threads=args.threads, quick=args.quick)

    common.main_per_kernel_family(argv, __doc__, NAME, ["batch_size", "median_step_ms", "faults_per_step",
                                                         "ratio_to_bp", "speedup", "processes", "steps"],
                                  measure_rows, report)


if __name__ == "__main__":
    main()
