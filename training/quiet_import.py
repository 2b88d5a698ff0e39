"""Import TensorFlow without its native start-up banner on the terminal.

TensorFlow's C++ code prints lines such as `I0000 ... oneDNN custom operations are on` while it
is being imported, before TF_CPP_MIN_LOG_LEVEL is read, so no setting hides them. The CLI's
output is read by people and parsed by the tuner: the import runs with file descriptor 2
pointed at a temporary file, and that text is shown only if the import fails.

On a machine with no NVIDIA driver, the first device enumeration also prints
`E0000 ... failed call to cuInit`: expected there, and alarming. It is done once inside the same
capture. Where a driver exists, CUDA's messages are left alone: there they can matter.
"""
import os
import sys
import tempfile

NVIDIA_DRIVER = "/proc/driver/nvidia"


def import_tensorflow_quietly():
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow
            if not os.path.exists(NVIDIA_DRIVER):
                tensorflow.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tensorflow
