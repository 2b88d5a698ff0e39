"""Step time under process-wide settings, each in processes of its own: what benchmarks.malloc_settings
and benchmarks.onednn_primitives share.

A setting read once per process (malloc's thresholds, a TensorFlow environment variable) cannot be
changed between two steps of one process, so each setting runs in child processes of its own,
alternating (first, second, first, second, ...). Every child builds all the types of a network
side by side and times them in turns, as benchmarks.step_time does, counting the minor page
faults of the timed steps, and says which settings it ran with: a setting that did not reach it
would void the comparison, so the parent checks. Per network, type and setting: the median step
over all that setting's processes, the page faults per step, the type's ratio to BP under it, and
its speed-up (the first setting's median over this one's).
"""
import json
import sys
from dataclasses import dataclass
from typing import Callable

from benchmarks import common, step_time

COLUMNS = ["network", "kernels", "type", "batch_size", "setting", "median_step_ms", "faults_per_step", "ratio_to_bp",
           "speedup", "processes", "steps"]
NUMERIC_COLUMNS = ["batch_size", "median_step_ms", "faults_per_step", "ratio_to_bp", "speedup", "processes", "steps"]


@dataclass(frozen=True)
class Setting:
    name: str
    environment: Callable[[], dict]  # the child's whole environment
    holds: Callable[[dict], bool]  # given what the child said it ran with (child_settings())


def child_settings():
    """What this process runs with, in words (benchmarks/common.py applied them at import)."""
    return {"malloc": common.MALLOC, "onednn_primitives": common.ONEDNN_PRIMITIVES}


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
    argv = [sys.executable, "-m", "benchmarks.settings_in_processes", "--child", network_name, str(batch_size),
            str(steps), str(warmup)] + common.threads_argv(threads) + (["--quick"] if quick else [])
    said = common.json_from_child(argv, setting.environment(), f" ({setting.name})")
    if not setting.holds(said["settings"]):
        raise RuntimeError(f"the {setting.name} process ran with {said['settings']}")
    return said["types"]


def measure(settings, nets, processes=2, steps=30, warmup=5, threads=None, quick=False, log=print):
    """settings: [Setting], the first the baseline of the speed-ups; nets: [(network, batch size)]
    of step_time.networks(quick), which the child processes look up by name."""
    from training.kernels import kernel_family
    library = kernel_family().library
    baseline = settings[0].name
    rows = []
    for network, batch_size in nets:
        got = {setting.name: {} for setting in settings}
        for turn in range(processes):
            for setting in settings:
                for kind, part in _run_child(setting, network.name, batch_size, steps, warmup, threads, quick).items():
                    mine = got[setting.name].setdefault(kind, {"times": [], "faults": 0})
                    mine["times"] += part["times"]
                    mine["faults"] += part["faults"]
                log(f"{network.name:>14} {library:>6} {setting.name:>7}: process {turn + 1} of {processes} done")
        medians = {name: {kind: common.median_ms(v["times"]) for kind, v in by_type.items()}
                   for name, by_type in got.items()}
        for name, by_type in got.items():
            for kind, value in by_type.items():
                row = {"network": network.name, "kernels": library, "type": kind, "batch_size": batch_size,
                       "setting": name, "median_step_ms": medians[name][kind],
                       "faults_per_step": value["faults"] / len(value["times"]),
                       "ratio_to_bp": medians[name][kind] / medians[name]["BP"],
                       "speedup": medians[baseline][kind] / medians[name][kind],
                       "processes": processes, "steps": len(value["times"])}
                rows.append(row)
                log(f"{network.name:>14} {library:>6} {kind:>7} {name:>7}: {row['median_step_ms']:8.2f} ms, "
                    f"{row['faults_per_step']:7.0f} faults/step, {row['ratio_to_bp']:.3f} x BP")
    return rows


def table(rows, value, header):
    """One line per network, kernel family and setting; a column per type."""
    lines = []
    for key in dict.fromkeys((r["network"], r["kernels"], r["setting"]) for r in rows):
        mine = {r["type"]: r for r in rows if (r["network"], r["kernels"], r["setting"]) == key}
        lines.append({"network": key[0], "kernels": key[1], "setting": key[2], **{k: value(r) for k, r in mine.items()}})
    types = list(dict.fromkeys(r["type"] for r in rows))
    return common.markdown_table(["network", "kernels", "setting", *types], lines, {"BP": header})


@dataclass(frozen=True)
class SettingsBenchmark:
    """A benchmark of process-wide settings: its module keeps one and hands out its methods."""
    name: str  # of the results files
    title: str
    settings: tuple  # (Setting, ...), the first the baseline of the speed-ups
    networks: Callable  # quick -> [(network, batch size)] of step_time.networks(quick)
    speedup_title: str
    settings_notes: str  # what each setting is

    def measure(self, nets, processes=2, steps=30, warmup=5, threads=None, quick=False, log=print):
        return measure(self.settings, nets, processes, steps, warmup, threads, quick, log)

    def report(self, rows, out_dir=None, log=print):
        """Ratios (BP in ms), page faults, and the speed-ups of the settings other than the baseline."""
        baseline = self.settings[0].name
        text = ("Median step (BP, ms) and each type's ratio to BP under each setting:\n\n"
                + table(rows, lambda r: r["median_step_ms"] if r["type"] == "BP" else r["ratio_to_bp"], "BP (ms)")
                + "\n\nMinor page faults per step:\n\n" + table(rows, lambda r: r["faults_per_step"], "BP")
                + f"\n\n{self.speedup_title}:\n\n"
                + table([r for r in rows if r["setting"] != baseline], lambda r: r["speedup"], "BP"))
        notes = (f"{self.settings_notes} Each setting in processes of its own, alternating; in each, the six types "
                 "built side by side and timed in turns after warm-up; medians over all of a setting's steps. "
                 f"Momentum SGD, a run's session settings. {common.machine_line()}.\n\n"
                 + common.regenerate_per_family(self.name) + "\n")
        common.write_results(self.name, COLUMNS, rows, self.title, text, notes, out_dir, log)

    def main(self, doc, argv=None):
        """The command line (common.main_per_kernel_family's options)."""
        def measure_rows(args):
            return self.measure(self.networks(args.quick), processes=1 if args.quick else 2,
                                steps=6 if args.quick else 30, warmup=2 if args.quick else 5, threads=args.threads,
                                quick=args.quick)

        common.main_per_kernel_family(sys.argv[1:] if argv is None else argv, doc, self.name, NUMERIC_COLUMNS,
                                      measure_rows, self.report)


def child_main(argv):
    name, batch_size, steps, warmup = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    result = child(name, batch_size, steps, warmup, common.threads_from_argv(argv), "--quick" in argv)
    print(json.dumps({"settings": child_settings(), "types": result}))


if __name__ == "__main__":
    child_main(sys.argv[1:])
