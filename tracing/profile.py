"""What a checkpoint planner reads from a trace: per-block costs and the cost of recomputing.

blocks.csv, one row per block (the algorithms name their scopes .../block_<i>/...):
  block, forward_time_us, backward_time_us (run times of the block's nodes in its first forward
  pass, and of its backward nodes: a recomputed pass is not counted again), output_bytes (what
  the block's last allocating node of that pass allocated: its output), kept_for_backward_bytes
  (the block's rows of activations.csv: what its backward reads), weight_bytes (the block's
  trainable variables, model/block_<i>/...).
activations.csv gains recomp_time_us and recomp_memory_bytes: the run time and allocations of
the block's forward nodes from the block's first one up to the activation's own, i.e. what
recomputing it from the block's stored input costs.
"""
import re
from dataclasses import dataclass, replace

BLOCK_COLUMNS = ("block", "forward_time_us", "backward_time_us", "output_bytes", "kept_for_backward_bytes",
                 "weight_bytes")
_BLOCK = re.compile(r"(?:^|/)block_(\d+)(?:/|$)")


def block_of(name):
    """The block index a node name belongs to, or None."""
    match = _BLOCK.search(name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class BlockRow:
    block: int
    forward_time_us: int
    backward_time_us: int
    output_bytes: int
    kept_for_backward_bytes: int
    weight_bytes: int

    def as_csv_row(self):
        return [getattr(self, column) for column in BLOCK_COLUMNS]


def with_recomputation(activations, node_rows):
    """activations.csv rows with recomp_time_us and recomp_memory_bytes filled in."""
    forward = [row for row in node_rows if row.phase == "forward" and block_of(row.node_name) is not None]
    by_rank = {row.rank: row for row in node_rows}
    result = []
    for activation in activations:
        owner = by_rank.get(activation.creation_rank)
        block = block_of(owner.node_name) if owner else None
        chain = [row for row in forward if block_of(row.node_name) == block and row.rank <= activation.creation_rank
                 and _same_pass(row.node_name, owner.node_name)] if block is not None else []
        result.append(replace(activation, recomp_time_us=sum(row.run_time_us for row in chain),
                              recomp_memory_bytes=sum(row.bytes_allocated for row in chain)))
    return result


def block_rows(node_rows, activations, weight_bytes=None):
    """blocks.csv rows from nodes.csv and activations.csv rows (in the order of the blocks)."""
    weight_bytes = weight_bytes or {}
    by_rank = {row.rank: row for row in node_rows}
    kept = {}
    for activation in activations:
        owner = by_rank.get(activation.creation_rank)
        block = block_of(owner.node_name) if owner else None
        if block is not None:
            kept[block] = kept.get(block, 0) + activation.size_bytes
    blocks = {}
    for row in node_rows:
        block = block_of(row.node_name)
        if block is None or row.phase not in ("forward", "backward"):
            continue
        entry = blocks.setdefault(block, {"forward": 0, "backward": 0, "output": 0, "first_pass": None})
        if row.phase == "backward":
            entry["backward"] += row.run_time_us
            continue
        # The first forward pass is the block's forward: recomputations repeat it (their costs
        # are activations.csv's), so they count neither in its time nor in its output.
        if entry["first_pass"] is None:
            entry["first_pass"] = _pass(row.node_name)
        if _pass(row.node_name) == entry["first_pass"]:
            entry["forward"] += row.run_time_us
            if row.bytes_allocated:
                entry["output"] = row.bytes_allocated
    return [BlockRow(block, entry["forward"], entry["backward"], entry["output"], kept.get(block, 0),
                     weight_bytes.get(block, 0)) for block, entry in sorted(blocks.items())]


def weight_bytes_by_block(graph):
    """{block: bytes of its trainable variables} from a tf.Graph (model/block_<i>/...)."""
    if graph is None:
        return {}
    totals = {}
    for variable in graph.get_collection("trainable_variables"):
        block = block_of(variable.name)
        elements = variable.shape.num_elements()
        if block is not None and elements is not None:
            totals[block] = totals.get(block, 0) + elements * variable.dtype.base_dtype.size
    return totals


def _pass(name):
    """The scope before block_<i>: 'forward' for the first pass, 'recompute/segment_0/forward'..."""
    return name[:_BLOCK.search(name).start()]


def _same_pass(name, other):
    return _pass(name) == _pass(other)
