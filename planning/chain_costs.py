"""Per-block costs of a chain of blocks: what a checkpointing plan trades against each other.

The plan search (planning.checkpoint_search) sees the network as a chain: for each block, the
time of one forward and the bytes that its forward and backward hold. They come from the memory
model's own layer rules, each block simulated alone (its input given, as a stored checkpoint
or the previous block's output would be):

- kept_bytes: what the block's forward leaves alive when its activations are stored, i.e. the
  tensors its backward reads, and its output (the next block's input);
- forward_peak_bytes: the peak of its forward when nothing is stored but its output
  (a pass that only computes checkpoints);
- backward_bytes: the peak of its backward (incoming gradient, input and weight gradients,
  temporary buffers) beyond kept_bytes;
- output_bytes: its output alone, what storing the next block's input costs;
- forward_time: the forward's measured nanoseconds (with measured kernels), else its arithmetic
  (multiply-adds of dense and conv layers, one per output element of element-wise ops), or
  measured microseconds from a traced profile.

The per-block sums are an abstraction of the simulation (no overlap between blocks' buffers): the search ranks plans with them, and the chosen plan is then predicted
with the full simulation (planning.budget_plan).

"""
from dataclasses import dataclass, replace

from planning.algorithms import StepProgram
from planning.program import simulate


@dataclass(frozen=True)
class ChainCosts:
    forward_time: tuple
    output_bytes: tuple
    kept_bytes: tuple
    forward_peak_bytes: tuple
    backward_bytes: tuple

    def __len__(self):
        return len(self.forward_time)

    def with_forward_times(self, times):
        """The same bytes with measured forward times (a traced profile's blocks.csv)."""
        if len(times) != len(self):
            raise ValueError(f"{len(times)} forward times for {len(self)} blocks")
        return replace(self, forward_time=tuple(float(t) for t in times))


def chain_costs(blocks, classes, batch_size, cost_function="softmax_cross_entropy", threads=1, kernels=None):
    """ChainCosts of BlockShapes (planning.shapes) at a batch size, from the layer rules, or from
    the blocks' measured kernels (planning.measured: bytes, and forward times in nanoseconds).
    threads: intra-op threads, as planning.model's."""
    rows = [_block_costs(block, classes, batch_size, cost_function, threads, block is blocks[-1], kernels)
            for block in blocks]
    return ChainCosts(*(tuple(row[i] for row in rows) for i in range(5)))


def _block_costs(block, classes, batch_size, cost_function, threads, last, kernels):
    program = StepProgram([block], classes, batch_size, cost_function, threads=threads, kernels=kernels)
    b = program.b
    block_input = b.given("block_input")
    one_hot = program.labels() if last else None
    weights = program.weights(block)
    result = []
    forward_ops = b.record(lambda: result.append(program.forward_block(block, block_input, weights)))
    output, saved = result[0]
    if last:
        _, gradient = program.loss_and_error(output, one_hot)
    else:
        gradient = b.new("output_gradient", block.output, "gradient")
    program.backward_block(block, gradient, saved, need_dx=block.index > 0)
    program.apply([], f"block_{block.index}")
    backward_ops = b.ops
    read_later = {tensor.name: tensor for op in backward_ops for tensor in op.inputs}
    kept = [tensor for op in forward_ops for tensor in op.outputs if tensor.name in read_later] + [output]
    external = b.external + ([one_hot] if one_hot is not None else [])
    kept_bytes = simulate(forward_ops, external, keep=kept).final_bytes
    forward_peak = simulate(forward_ops, external, keep=[output]).peak_bytes
    step_peak = simulate(forward_ops + backward_ops, external).peak_bytes
    time = sum(op.flops or sum(tensor.size for tensor in op.outputs) // 4 for op in forward_ops)
    return (float(time), output.size, kept_bytes, forward_peak, max(0, step_peak - kept_bytes))
