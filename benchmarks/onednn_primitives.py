"""Step time with oneDNN's convolution-gradient primitives rebuilt every step (TensorFlow's
default) and kept between steps (what runs and benchmarks do).

    python -m benchmarks.onednn_primitives [--quick] [--out DIR] [--append]

TensorFlow reads TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE once per process (training/onednn_primitives.py),
so each setting runs in processes of its own, alternating (rebuilt, kept, ...;
benchmarks/settings_in_processes.py); every process builds all the types of a network side by
side and times them in turns, counting the minor page faults of the timed steps. Per network,
type and setting: the median step, page faults per step, the ratio to BP, and the speed-up
(rebuilt's median over kept's). Run with oneDNN's kernels (TF_ENABLE_ONEDNN_OPTS=1); under Eigen's
(`TF_ENABLE_ONEDNN_OPTS=0 ... --append`) nothing reads the setting and the speed-ups show the noise.
Writes results/onednn_primitives.{csv,md}.
"""
import os

from benchmarks import step_time
from benchmarks.settings_in_processes import Setting, SettingsBenchmark
from training.onednn_primitives import ENV

NAME = "onednn_primitives"
REBUILT, KEPT = "rebuilt", "kept"
SETTINGS = (REBUILT, KEPT)


def _setting(name):
    value = "true" if name == REBUILT else "false"
    return Setting(name, lambda: {**os.environ, ENV: value},
                   lambda said: f"{ENV}='{value}'" in said["onednn_primitives"])


def networks(quick=False):
    """Convnets (the primitives are convolutions'): vgg_16 at batch 16 and long_conv_20 at 100."""
    if quick:
        return [(net, batch) for net, batch in step_time.networks(quick=True) if net.family == "long_conv"][:1]
    wanted = ("vgg_16", "long_conv_20")
    return [(net, batch) for net, batch in step_time.networks() if net.name in wanted]


BENCHMARK = SettingsBenchmark(
    NAME, "oneDNN primitives kept and step time", tuple(_setting(name) for name in SETTINGS), networks,
    "Speed-up from keeping the primitives (rebuilt's median step over kept's)",
    f"`rebuilt`: {ENV}=true, TensorFlow's default; `kept`: {ENV}=false, what runs and the other benchmarks use "
    "(training/onednn_primitives.py).")
measure, report = BENCHMARK.measure, BENCHMARK.report


if __name__ == "__main__":
    BENCHMARK.main(__doc__)
