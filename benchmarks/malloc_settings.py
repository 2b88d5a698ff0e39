"""Step time with glibc's default malloc thresholds and with freed memory kept in the process.

    python -m benchmarks.malloc_settings [--quick] [--out DIR] [--append]

training/malloc_settings.py keeps what a step frees for the next step (runs and benchmarks do it
unless ZPPMEM_MALLOC=default). The setting is process-wide, so each side runs in processes of its
own, alternating (default, keep, default, keep, ...; benchmarks/settings_in_processes.py), and
every process builds all the types of a network side by side and times them in turns, as
benchmarks.step_time does; it also counts the minor page faults of the timed steps. Per network,
type and setting: the median step over all that setting's processes, the page faults per step,
and the type's ratio to BP under it; per type, the speed-up (default's median over keep's). Run
once per kernel family (`TF_ENABLE_ONEDNN_OPTS=0 ... --append`). Writes
results/malloc_settings.{csv,md}.
"""
from benchmarks import step_time
from benchmarks.settings_in_processes import Setting, SettingsBenchmark
from training.malloc_settings import DEFAULT, ENV, KEEP, environment_for

NAME = "malloc_settings"
SETTINGS = (DEFAULT, KEEP)


def _setting(choice):
    return Setting(choice, lambda: environment_for(choice),
                   lambda said: said["malloc"].startswith("freed memory kept") == (choice == KEEP))


def networks(quick=False):
    if quick:
        return step_time.networks(quick=True)[:1]
    wanted = ("long_fc_30", "vgg_16", "long_conv_20")  # long_conv_20: where thread heaps were dropped each step
    return [(net, batch) for net, batch in step_time.networks() if net.name in wanted]


BENCHMARK = SettingsBenchmark(
    NAME, "Malloc settings and step time", tuple(_setting(choice) for choice in SETTINGS), networks,
    "Speed-up from keeping freed memory (default's median step over this setting's)",
    f"`default`: glibc's thresholds ({ENV}=default); `keep`: training/malloc_settings.py (trim off, mmap threshold "
    "32 MiB, thread heaps kept by a 64 MiB top pad), what runs and the other benchmarks use.")
measure, report = BENCHMARK.measure, BENCHMARK.report


if __name__ == "__main__":
    BENCHMARK.main(__doc__)
