"""The memory model's kernels, measured on this machine: each distinct block once per batch size.

`MeasuredKernels(blocks, threads)` is what planning.model.MemoryModel calls for a block's
BlockKernels at a batch size. Blocks with the same layers and input shape (a ResNet's repeated
residual blocks) share one measurement; each is read from the cache (training/kernel_cache.py)
or measured (training/kernel_probe.py) and cached. It counts what it did, for `experiment plan`
to say whether it measured (and how long that took) or read the cache.
"""
import json
import os
import time

from training.kernel_cache import entry_key, read_entry, write_entry
from training.kernel_probe import layer_configs, measure_block
from training.kernels import kernel_family, run_device


class MeasuredKernels:
    def __init__(self, blocks, threads=None, device=None, cache_directory=None, static_batch=False):
        """blocks: the network's built blocks (their layers have run once, so shapes are known).
        device: "CPU" or "GPU" (default: where the run's ops go, a GPU when there is one).
        static_batch: the step's graph knows its batch size (the benchmarks'; a run's does not)."""
        device = device or run_device()
        self.family = kernel_family(device)
        self.static_batch = static_batch
        self.device = device
        self.threads = threads or os.cpu_count() or 1
        self.cache_directory = cache_directory
        # Per block: its layers' configs, its input shape, and both as one text (the memo's key,
        # made once: predictions ask for every block's kernels on every call).
        self._signatures = {}
        for block in blocks:
            configs, input_shape = layer_configs(block), tuple(block.layers[0].input_shape[1:])
            self._signatures[block.index] = (configs, input_shape, json.dumps([configs, input_shape], sort_keys=True))
        self._known = {}  # (signature text, batch) -> BlockKernels
        self.measured, self.read, self.measuring_seconds = 0, 0, 0.0

    def __call__(self, block, batch_size):
        if block.index not in self._signatures:
            # A block the model adds to the network's (LOCAL's auxiliary heads, planning/auxiliary.py):
            # a planning.shapes.BlockShape, whose layers' settings are their configs without names.
            configs = [{"class_name": layer.kind, "config": dict(layer.settings)} for layer in block.layers]
            input_shape = tuple(block.input)
            self._signatures[block.index] = (configs, input_shape,
                                             json.dumps([configs, input_shape], sort_keys=True))
        configs, input_shape, signature = self._signatures[block.index]
        memo = (signature, int(batch_size))
        if memo not in self._known:
            key = entry_key(self.family, configs, input_shape, batch_size, self.threads, self.static_batch)
            kernels = read_entry(key, self.cache_directory)
            if kernels is None:
                started = time.perf_counter()
                kernels = measure_block(configs, input_shape, batch_size, self.threads, self.device,
                                        self.static_batch)
                self.measuring_seconds += time.perf_counter() - started
                self.measured += 1
                write_entry(key, kernels, self.cache_directory)
            else:
                self.read += 1
            self._known[memo] = kernels
        return self._known[memo]

    def report(self):
        """One line: what the predictions are for, and where the kernels came from."""
        source = []
        if self.measured:
            source.append(f"measured {self.measured} block kernel set{'s' if self.measured != 1 else ''} "
                          f"in {self.measuring_seconds:.1f} s")
        if self.read:
            source.append(f"read {self.read} from the cache")
        return f"kernels: {self.family}; {', '.join(source) or 'nothing measured yet'}"
