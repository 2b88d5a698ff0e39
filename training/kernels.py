"""Which kernels TensorFlow runs here: the device and the kernel library, as the run will use them.

Memory and time per op depend on them: Eigen's CPU convolution gradients hold im2col buffers of
tens of MiB where oneDNN's hold none, oneDNN fuses a filter gradient with its bias gradient and
keeps a max-pool workspace instead of an argmax, cuDNN has workspaces of its own. A prediction
says which family it is for, and measured kernels are cached per family (ARCHITECTURE.md,
"Kernels are measured, not written down").
"""
import os
import platform
from dataclasses import dataclass

ONEDNN_SWITCH = "TF_ENABLE_ONEDNN_OPTS"


@dataclass(frozen=True)
class KernelFamily:
    device: str  # "CPU (<processor>)" or the GPU's name
    library: str  # "oneDNN", "Eigen" or "cuDNN"
    tensorflow: str

    def __str__(self):
        return f"{self.library} on {self.device}, TensorFlow {self.tensorflow}"


def onednn_enabled():
    """True when TensorFlow's CPU kernels are oneDNN's (the default on recent x86 CPUs;
    TF_ENABLE_ONEDNN_OPTS=0 turns them off before TensorFlow is imported)."""
    from tensorflow.python.util import _pywrap_util_port
    return bool(_pywrap_util_port.IsMklEnabled())


def kernel_family(device="CPU"):
    """The KernelFamily ops placed on `device` ("CPU" or "GPU") run with."""
    import tensorflow as tf
    if device.upper().startswith("GPU"):
        gpus = tf.config.list_physical_devices("GPU")
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "GPU"
        return KernelFamily(name, "cuDNN", tf.__version__)
    return KernelFamily(f"CPU ({cpu_model()})", "oneDNN" if onednn_enabled() else "Eigen", tf.__version__)


def run_device():
    """Where a run's ops go: "GPU" when TensorFlow sees one (it places them there), else "CPU"."""
    import tensorflow as tf
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def cpu_model():
    """The processor's model name (Linux's /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def onednn_switch():
    """The switch as this process was started with it, for the record ('' when unset)."""
    return os.environ.get(ONEDNN_SWITCH, "")
