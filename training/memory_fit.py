"""Will the step fit? The memory model's predicted total against the memory the device has.

Before training (issue "A researcher's day", item 2) a run whose predicted total (transient peak +
persistent, training/memory_model.py) exceeds the memory left to this process is refused with
the prediction, the limit and what would fit, instead of a TensorFlow out-of-memory traceback
minutes later. `memory_check: false` skips it (the model can be wrong, the user may know better).

The limit is what this process can still take: on CPU the smallest of MemAvailable
(/proc/meminfo), the cgroup's memory.max less its memory.current, and RLIMIT_AS (`ulimit -v`)
less the address space already mapped (TensorFlow alone maps gigabytes); on a GPU, its memory.

Large batches are predicted from two small ones: the kernel probe runs each block at the
batch it predicts (training/measured_kernels.py), and probing the batch that does not fit would
be the out-of-memory this check exists to prevent. Memory grows linearly in the batch (every
transient buffer has the batch as its first dimension; the persistent bytes do not depend on
it), so the line through two probes is the prediction; it is labelled as extrapolated.
"""
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass

from definitions.errors import ConfigError
from definitions.sizes import format_size

#: Batches up to this are predicted exactly; above, extrapolated from this and half of it.
PROBE_BATCH = 64


class MemoryTooSmall(ConfigError):
    """The predicted total exceeds the device's memory: bad input, refused before training."""


@dataclass(frozen=True)
class Limit:
    bytes: int
    source: str  # e.g. "ulimit -v (RLIMIT_AS) less the 1.7 GiB mapped"


def device_limit():
    """The Limit of the device a run trains on (training.kernels.run_device), or None."""
    from training.kernels import run_device
    return gpu_limit() if run_device() == "GPU" else cpu_limit()


def check_run_fits(config, blocks, dataset):
    """Before a run's first step: refuse it (MemoryTooSmall) when its step is predicted not to fit."""
    if not config.memory_check:
        return None
    limit = device_limit()
    if limit is None:
        return None
    from training.memory_model import model_of
    model = model_of(config, blocks, dataset.input_shape, dataset.num_classes)
    return check_fits(config, model, limit)


def cpu_limit():
    limits = []
    available = _meminfo("MemAvailable")
    if available is not None:
        limits.append(Limit(available, "available RAM (MemAvailable)"))
    cgroup = _cgroup_room()
    if cgroup is not None:
        limits.append(Limit(cgroup, "the cgroup's memory.max less memory.current"))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        mapped = _status_bytes("VmSize") or 0
        limits.append(Limit(max(0, soft - mapped), f"ulimit -v ({format_size(soft)}) less the "
                                                    f"{format_size(mapped)} this process has mapped"))
    return min(limits, key=lambda limit: limit.bytes) if limits else None


def gpu_limit():
    """The first visible GPU's total memory (nvidia-smi), or None."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        return Limit(int(out.split()[0]) * 2**20, "the GPU's memory (nvidia-smi)")
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def predicted_total(model, kind, batch_size):
    """(total bytes, exact?) of one step at batch_size; extrapolated above PROBE_BATCH."""
    if batch_size <= PROBE_BATCH:
        return model.predict(kind, batch_size).total_bytes, True
    intercept, slope = _line(model, kind)
    return int(intercept + slope * batch_size), False


def largest_batch(model, kind, limit_bytes):
    """The largest batch whose predicted total fits limit_bytes (0: none does)."""
    intercept, slope = _line(model, kind)
    if slope <= 0:
        return 0
    guess = int((limit_bytes - intercept) // slope)
    if guess <= PROBE_BATCH:  # small enough to predict exactly: step down to one that fits
        guess = min(max(guess, 0), PROBE_BATCH)
        while guess > 0 and model.predict(kind, guess).total_bytes > limit_bytes:
            guess -= 1
    return max(guess, 0)


def _line(model, kind):
    low, high = PROBE_BATCH // 2, PROBE_BATCH
    at_low, at_high = model.predict(kind, low).total_bytes, model.predict(kind, high).total_bytes
    slope = (at_high - at_low) / (high - low)
    return at_high - slope * high, slope


def check_fits(config, model, limit):
    """MemoryTooSmall when config's step is predicted not to fit `limit`, naming what would."""
    if limit is None:
        return None
    total, exact = predicted_total(model, config.type, config.batch_size)
    if total <= limit.bytes:
        return total
    how = "predicted" if exact else "predicted (extrapolated from batches of " \
                                    f"{PROBE_BATCH // 2} and {PROBE_BATCH})"
    largest = largest_batch(model, config.type, limit.bytes)
    options = [f"batch_size {largest} or less" if largest else f"no batch size of {config.type}"]
    for kind in ("DFAMEM", "BPCKPT"):
        if kind != config.type and predicted_total(model, kind, config.batch_size)[0] <= limit.bytes:
            options.append(f"type {kind}" + (f" with memory_budget {format_size(limit.bytes).replace(' ', '')}"
                                             if kind == "BPCKPT" else ""))
    raise MemoryTooSmall(
        f"one {config.type} step of {config.name} at batch {config.batch_size} is {how} to need "
        f"{format_size(total)}, more than the {format_size(limit.bytes)} this process can use "
        f"({limit.source}); what would fit: {'; '.join(options)}; or, if the prediction is wrong for "
        f"your case, run anyway with --set memory_check=false")


def _meminfo(field):
    return _read_kib("/proc/meminfo", field)


def _status_bytes(field):
    return _read_kib("/proc/self/status", field)


def _read_kib(path, field):
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room():
    """memory.max - memory.current of this process's cgroup (v2), or None without a limit."""
    base = "/sys/fs/cgroup"
    try:
        with open("/proc/self/cgroup", encoding="ascii") as handle:
            path = next((line.split(":", 2)[2].strip() for line in handle if line.startswith("0::")), "/")
        directory = os.path.join(base, path.lstrip("/"))
        with open(os.path.join(directory, "memory.max"), encoding="ascii") as handle:
            maximum = handle.read().strip()
        if maximum == "max":
            return None
        with open(os.path.join(directory, "memory.current"), encoding="ascii") as handle:
            current = int(handle.read().strip())
        return max(0, int(maximum) - current)
    except (OSError, ValueError, StopIteration):
        return None
