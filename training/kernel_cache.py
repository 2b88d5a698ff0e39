"""The measured kernels of blocks, cached on disk: measured once per machine, read in milliseconds.

One JSON file per block and batch size under $XDG_CACHE_HOME/zppmem/kernels/ (default
~/.cache/zppmem/kernels/), named by a hash of its key: TensorFlow's version, the device, the
kernel library, the intra-op threads (Eigen sizes its convolution buffers by them) and inter-op
threads (they decide which ops run side by side), the block's
layer configs, its input shape, the batch size, whether the graph knows it, and the dtype. The file repeats the key: an entry
whose key differs (a hash collision, a file copied from another machine), that does not parse or
is of another format is measured again and overwritten, never trusted. Written atomically.
"""
import hashlib
import json
import os

from definitions.files import atomic_write_json
from planning.measured import BlockKernels
from tracing.session_config import INTER_OP_THREADS

DIRECTORY = os.path.join("zppmem", "kernels")


def cache_directory():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, DIRECTORY)


def entry_key(family, configs, input_shape, batch_size, threads, static_batch=False, dtype="float32"):
    return {"tensorflow": family.tensorflow, "device": family.device, "library": family.library,
            "threads": int(threads), "inter_op_threads": INTER_OP_THREADS, "layers": configs, "input_shape": [int(d) for d in input_shape],
            "batch_size": int(batch_size), "batch_dimension": "static" if static_batch else "dynamic",
            "dtype": dtype}


def entry_path(key, directory=None):
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:40]
    return os.path.join(directory or cache_directory(), f"{digest}.json")


def read_entry(key, directory=None):
    """The cached BlockKernels of `key`, or None: missing, unreadable, corrupt or another key's."""
    try:
        with open(entry_path(key, directory), encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("key") != json.loads(json.dumps(key)):
            return None
        return BlockKernels.from_data(data["kernels"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_entry(key, kernels, directory=None):
    """Store the entry; a cache that cannot be written (read-only home) costs a measurement next time, no error."""
    try:
        atomic_write_json(entry_path(key, directory), {"key": key, "kernels": kernels.to_data()})
    except OSError:
        pass
