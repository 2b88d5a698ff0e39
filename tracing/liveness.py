"""activations.csv: when each forward tensor is created, last used forward, and needed backward.

A row is a buffer allocated by a forward-phase node that outlives the node (scratch space
freed inside the node is not a tensor anyone else reads), is freed within the step, and is
read by at least one backward-phase node: exactly the tensors a checkpointing scheme may drop
after their last forward use and recompute before their first backward use.

Ops such as Relu, Reshape or ReluGrad often forward their input buffer as their output, so
the readers of a buffer are the readers of every tensor that lives in it. Those tensors are
found by address: an output whose allocation ptr equals the owner's output ptr while the
buffer is alive is the same memory. When TF gives no addresses (ptr 0) or no node stats, a
buffer's readers are the readers of its owner's outputs only.

The graph's readers are the nodes as built; Grappler may have fused or removed some of them
before the step ran. A reader that did not run passes its role on to the readers of its own
outputs (block_1/MatMul fused into block_1/Sigmoid: block_0's output is read by the Sigmoid).
"""
from dataclasses import dataclass

from tracing.buffers import pair_buffers

ACTIVATION_COLUMNS = (
    "activation_name",
    "creation_rank",
    "last_fw_use_rank",
    "first_bw_use_rank",
    "last_bw_use_rank",
    "size_bytes",
    "inactive_time_us",
    "recomp_time_us",
    "recomp_memory_bytes",
)


@dataclass(frozen=True)
class ActivationRow:
    activation_name: str
    creation_rank: int
    last_fw_use_rank: int
    first_bw_use_rank: int
    last_bw_use_rank: int
    size_bytes: int
    inactive_time_us: int
    # What recomputing it from its block's input costs (tracing/profile.py fills them in).
    recomp_time_us: int = 0
    recomp_memory_bytes: int = 0

    def as_csv_row(self):
        return [getattr(self, column) for column in ACTIVATION_COLUMNS]


def _outlives_owner(buffer, owner):
    return buffer.free_us is None or buffer.free_us > owner.end_micros


def _claim_output_slots(buffers, nodes_by_name):
    """{buffer: its owner's OutputSlot}, matching the owner's surviving buffers to its outputs
    of the same size, in order."""
    claimed = {}
    taken = set()
    for buffer in buffers:
        owner = nodes_by_name.get(buffer.owner)
        if owner is None or not _outlives_owner(buffer, owner):
            continue
        for output in owner.outputs:
            if (owner.name, output.slot) in taken:
                continue
            if buffer.size_bytes in (output.allocated_bytes, output.requested_bytes):
                claimed[buffer] = output
                taken.add((owner.name, output.slot))
                break
    return claimed


def _outputs_by_address(nodes):
    """{(device, ptr): [(start time, tensor name)]} for every output TF gave an address."""
    index = {}
    for node in nodes:
        for slot in node.outputs:
            if slot.ptr:
                entry = (node.all_start_micros, f"{node.name}:{slot.slot}")
                index.setdefault((node.device, slot.ptr), []).append(entry)
    return index


def _tensors_in_buffer(buffer, output, by_address, consumers):
    if output is None:
        prefix = buffer.owner + ":"
        return {tensor for tensor in consumers if tensor.startswith(prefix)}
    tensors = {f"{buffer.owner}:{output.slot}"}
    # An address is reused once its buffer is freed, so only outputs made while this buffer
    # was alive can live in it.
    end = float("inf") if buffer.free_us is None else buffer.free_us
    for start, tensor in by_address.get((buffer.device, output.ptr), ()):
        if buffer.alloc_us <= start <= end:
            tensors.add(tensor)
    return tensors


def _readers_by_node(consumers):
    by_node = {}
    for tensor, readers in consumers.items():
        by_node.setdefault(tensor.rsplit(":", 1)[0], set()).update(readers)
    return by_node


def _executed_readers(readers, executed, readers_by_node):
    """The executed nodes among `readers`; a reader that did not run (Grappler fused or removed
    it, e.g. a MatMul folded into the next Sigmoid's _FusedMatMul) hands its role on to the
    nodes that read its own outputs."""
    found, seen, pending = set(), set(), list(readers)
    while pending:
        reader = pending.pop()
        if reader in seen:
            continue
        seen.add(reader)
        if reader in executed:
            found.add(reader)
        else:
            pending.extend(readers_by_node.get(reader, ()))
    return found


def activation_rows(records, nodes, consumers, classifier):
    """Rows for activations.csv, in creation order.

    nodes: executed nodes in execution order (node_table.executed_nodes); consumers: tensor
    name -> names of the nodes that read it (graph_facts.GraphFacts.consumers).
    """
    nodes_by_name = {node.name: node for node in nodes}
    rank = {node.name: index for index, node in enumerate(nodes)}
    buffers = [b for b in pair_buffers(records) if b.owner in rank and classifier.phase(b.owner) == "forward"]
    outputs = _claim_output_slots(buffers, nodes_by_name)
    by_address = _outputs_by_address(nodes)
    readers_by_node = _readers_by_node(consumers)
    rows = []
    for buffer in buffers:
        owner = nodes_by_name[buffer.owner]
        if buffer.free_us is None or not _outlives_owner(buffer, owner):
            continue
        output = outputs.get(buffer)
        readers = set()
        for tensor in _tensors_in_buffer(buffer, output, by_address, consumers):
            readers.update(_executed_readers(consumers.get(tensor, ()), rank, readers_by_node))
        readers.discard(buffer.owner)
        forward_uses = [rank[r] for r in readers if classifier.phase(r) == "forward"]
        backward_uses = [rank[r] for r in readers if classifier.phase(r) == "backward"]
        if not backward_uses:
            continue
        last_fw = max(forward_uses + [rank[buffer.owner]])
        first_bw = min(backward_uses)
        inactive = nodes[first_bw].all_start_micros - nodes[last_fw].end_micros
        name = f"{buffer.owner}:{output.slot}" if output is not None else f"{buffer.owner}#{buffer.ordinal}"
        rows.append(
            ActivationRow(
                activation_name=name,
                creation_rank=rank[buffer.owner],
                last_fw_use_rank=last_fw,
                first_bw_use_rank=first_bw,
                last_bw_use_rank=max(backward_uses),
                size_bytes=buffer.size_bytes,
                inactive_time_us=max(0, inactive),
            )
        )
    rows.sort(key=lambda row: row.creation_rank)
    return rows
