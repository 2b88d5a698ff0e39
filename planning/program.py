"""A training step as a program of ops, and the memory its execution holds, simulated.

The memory model describes one step the way TensorFlow's executor runs it: a list of ops in
execution order, each reading tensors and producing tensors. Simulating the list gives the
bytes in use after every op, exactly as the tracer's timeline.txt counts them:

- an op's outputs and temporaries are allocated when it starts; temporaries are freed when it
  ends; an input is freed once the last op that reads it has run (TensorFlow's executor drops
  a tensor when its last consumer is done);
- an op marked `in_place` writes its output into an input's buffer when that input has no
  other reader left (TensorFlow's buffer forwarding: Relu, Tanh, their gradients, AddN);
- `alias` outputs share their input's buffer (Reshape, Identity, ReadVariableOp);
- tensors that exist before the step (weights, the input batch from tf.data) are `external`:
  never counted, as the tracer does not see them.

Nothing here imports TensorFlow: the programs are built from shapes.
"""
from dataclasses import dataclass, field

CATEGORIES = ("input", "activation", "gradient", "update", "optimizer_state", "other")


@dataclass(frozen=True)
class Tensor:
    """A value of the step: `size` bytes, counted under `category` while alive."""

    name: str
    size: int
    category: str = "activation"


@dataclass
class Op:
    """One executed op. `outputs` are new tensors; `alias` maps an
    output to the input whose buffer it shares; `in_place` maps an output to the inputs whose
    buffer it may take over, in order; `temps` are (bytes, category) held while the op runs."""

    name: str
    inputs: tuple = ()
    outputs: tuple = ()
    temps: tuple = ()
    alias: dict = field(default_factory=dict)
    in_place: dict = field(default_factory=dict)
    flops: int = 0  # arithmetic (or measured nanoseconds): what a recomputation costs


@dataclass(frozen=True)
class Point:
    op: str
    bytes_in_use: int


@dataclass
class Simulation:
    peak_bytes: int
    peak_op: str
    by_category_at_peak: dict
    timeline: list  # Point after each op's allocations (the moment its memory peaks)
    final_bytes: int


def simulate(ops, external=(), keep=()):
    """Run `ops` in order, one at a time (a run's session has one inter-op thread); `external`
    tensors are never counted, `keep` ones live to the end."""
    readers = {}
    for op in ops:
        for tensor in op.inputs:
            readers[tensor.name] = readers.get(tensor.name, 0) + 1
    external = {t.name for t in external}
    kept = {t.name for t in keep}
    buffer_of, members, size_of, category_of = {}, {}, {}, {}
    in_use, peak, peak_op, peak_categories = 0, 0, "", {}
    timeline = []
    next_buffer = 0

    def live_by_category():
        totals = {}
        for buffer, names in members.items():
            totals[category_of[buffer]] = totals.get(category_of[buffer], 0) + size_of[buffer]
        return totals

    for op in ops:
        allocated_temps = 0
        outputs = op.outputs
        for tensor in outputs:
            source = op.alias.get(tensor.name)
            if source is None:
                source = next((name for name in op.in_place.get(tensor.name, ()) if name in buffer_of
                               and name not in kept and readers.get(name, 0) == 1
                               and len(members[buffer_of[name]]) == 1), None)
            if source is not None and source in buffer_of:
                buffer_of[tensor.name] = buffer_of[source]
                members[buffer_of[source]].add(tensor.name)
                continue
            if source is not None or tensor.name in external:
                continue  # an alias of something the step never allocated
            buffer_of[tensor.name] = next_buffer
            members[next_buffer] = {tensor.name}
            size_of[next_buffer], category_of[next_buffer] = tensor.size, tensor.category
            in_use += tensor.size
            next_buffer += 1
        temps = op.temps
        for size, category in temps:
            allocated_temps += size
        if in_use + allocated_temps > peak:
            peak, peak_op = in_use + allocated_temps, op.name
            peak_categories = live_by_category()
            for size, category in temps:
                peak_categories[category] = peak_categories.get(category, 0) + size
        timeline.append(Point(op.name, in_use + allocated_temps))
        for tensor in op.inputs:
            readers[tensor.name] -= 1
        for tensor in list(op.inputs) + list(outputs):
            freed = _release(tensor.name, readers, kept, buffer_of, members)
            in_use -= size_of[freed] if freed is not None else 0
    return Simulation(peak, peak_op, peak_categories, timeline, in_use)


def _release(name, readers, kept, buffer_of, members):
    """Drop `name` from its buffer once nothing reads it; returns the buffer if that freed it."""
    if name in kept or readers.get(name, 0) > 0 or name not in buffer_of:
        return None
    buffer = buffer_of.pop(name)
    members[buffer].discard(name)
    if members[buffer]:
        return None
    del members[buffer]
    return buffer
