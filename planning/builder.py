"""Writes a step's program: unique tensor names, sizes from shapes, the current name scope."""
import contextlib

import numpy as np

from planning.program import Op, Tensor

FLOAT = 4
INT64 = 8


class ProgramBuilder:
    def __init__(self, batch_size, threads=1):
        self.batch = int(batch_size)
        self.threads = int(threads)  # intra-op threads: conv gradients size their buffers by them
        # With measured kernels, an op's flops are its measured nanoseconds; the ops written here
        # (loss, projections) then weigh nothing beside them: small matmuls against the classes.
        self.measured = False
        self.ops = []
        self.external = []
        self.fetched = []  # tensors the session returns (the loss): alive to the end of the step
        self._scope = []
        self._count = 0

    # -- tensors --------------------------------------------------------------------------
    def batch_bytes(self, shape, dtype_size=FLOAT):
        """Bytes of a tensor of per-example `shape` for the whole batch."""
        return self.batch * int(np.prod(shape, dtype=np.int64)) * dtype_size

    def tensor(self, label, size, category):
        self._count += 1
        return Tensor(f"{'/'.join(self._scope + [label])}#{self._count}", int(size), category)

    def given(self, label, size=0):
        """A tensor that exists before the step (a weight, the input batch): never counted."""
        tensor = self.tensor(label, size, "other")
        self.external.append(tensor)
        return tensor

    # -- ops --------------------------------------------------------------------------------
    def op(self, label, inputs=(), outputs=(), temps=(), alias=None, in_place=(), flops=0):
        """Append an op; returns its outputs (one tensor, a tuple, or None)."""
        candidates = tuple(t.name for t in in_place if t is not None)
        self.ops.append(Op("/".join(self._scope + [label]), tuple(t for t in inputs if t is not None),
                           tuple(outputs), tuple(temps), {o.name: i.name for o, i in (alias or {}).items()},
                           {outputs[0].name: candidates} if outputs and candidates else {},
                           0 if self.measured else int(flops)))
        return outputs[0] if len(outputs) == 1 else (tuple(outputs) or None)

    def new(self, label, shape, category, inputs=(), temps=(), in_place=(), dtype_size=FLOAT, op=None, flops=0):
        """An op with one output of per-example `shape` for the batch."""
        out = self.tensor(label, self.batch_bytes(shape, dtype_size), category)
        return self.op(op or label, inputs, [out], temps, in_place=in_place, flops=flops)

    def small(self, label, elements, category, inputs=(), flops=0):
        """An op with one output of `elements` floats, not scaled by the batch (per-channel values)."""
        out = self.tensor(label, int(elements) * FLOAT, category)
        return self.op(label, inputs, [out], flops=flops)

    def alias(self, label, source):
        """A view of `source` (Reshape, Identity): no memory of its own."""
        out = self.tensor(label, source.size, source.category)
        return self.op(label, [source], [out], alias={out: source})

    def record(self, append):
        """The ops `append()` adds, returned instead of appended."""
        mine, self.ops = self.ops, []
        try:
            append()
            return self.ops
        finally:
            self.ops = mine

    def scope_name(self, label):
        return "/".join(self._scope + [label])

    @contextlib.contextmanager
    def scope(self, name):
        self._scope.append(name)
        try:
            yield
        finally:
            self._scope.pop()
