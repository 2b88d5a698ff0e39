"""A block's kernels as measured on the run's device: its ops, their buffers and their times.

The layer rules (planning/layers.py) write what TensorFlow's Eigen CPU kernels allocate. Other
kernel libraries fuse and allocate differently (oneDNN fuses a filter gradient with its bias
gradient, holds no im2col buffers, keeps a max-pool workspace instead of an argmax; cuDNN has
workspaces of its own), so the model does not write them down: training/kernel_probe.py traces
each distinct block alone on the run's own device, forward and backward, and turns the trace
into the ops below. StepProgram replays them wherever the algorithm runs that block, so the
simulation of each algorithm's order (planning/algorithms.py) is the same for every kernel
library and only the ops it strings together are measured.

Tensor ids are local to a block: "x" is the block's input, "dy" the gradient at its output,
every other id a tensor of the measured graph ("node:slot"). Ids that the program does not know
(weights, constants, the feedback matrices) exist before the step and are never counted.
"""
from dataclasses import dataclass

from planning.program import Op, Tensor

BLOCK_INPUT, OUTPUT_GRADIENT = "x", "dy"
FORMAT = 8  # of the plain-data form below; a cache entry of another format is measured again


@dataclass(frozen=True)
class MeasuredOp:
    """One executed kernel: `outputs` (id, bytes) are new buffers, except those in `shares`
    ((output id, input id): the kernel wrote into its input's buffer, as TensorFlow forwards a
    buffer whose only reader it is); `temp_bytes` are scratch held while it ran."""
    name: str
    inputs: tuple
    outputs: tuple
    shares: tuple = ()
    temp_bytes: int = 0
    start_us: float = 0.0  # from the first op of the measured run (the order the executor took)
    run_us: float = 0.0


@dataclass(frozen=True)
class Backward:
    """One role of a block's backward pass: to the weights only, or to the weights and the input."""
    ops: tuple
    weight_gradients: tuple  # ids, in the order of the block's variables
    input_gradient: str = None

    @property
    def time_us(self):
        return sum(op.run_us for op in self.ops)


@dataclass(frozen=True)
class BlockKernels:
    forward: tuple
    output: str
    to_weights: Backward
    to_input: Backward
    # The forward pass alone, nothing kept for a backward pass (MEZO's passes): kernels may then
    # write into buffers the forward above keeps for the gradients (GELU's erfc into its input).
    inference: tuple = ()
    inference_output: str = None

    @property
    def forward_time_us(self):
        return sum(op.run_us for op in self.forward)

    def backward(self, need_dx):
        return self.to_input if need_dx else self.to_weights

    # -- plain data, for the cache -----------------------------------------------------------
    def to_data(self):
        return {"format": FORMAT, "forward": [_op_data(op) for op in self.forward], "output": self.output,
                "to_weights": _backward_data(self.to_weights), "to_input": _backward_data(self.to_input),
                "inference": [_op_data(op) for op in self.inference], "inference_output": self.inference_output}

    @classmethod
    def from_data(cls, data):
        """The BlockKernels of `to_data`'s form; ValueError (or KeyError, TypeError) if it is not one."""
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        return cls(tuple(_op_of(op) for op in data["forward"]), str(data["output"]),
                   _backward_of(data["to_weights"]), _backward_of(data["to_input"]),
                   tuple(_op_of(op) for op in data["inference"]), str(data["inference_output"]))


def replay(b, ops, env, category):
    """Append measured `ops` to the ProgramBuilder `b`, reading and extending `env` (id -> Tensor),
    in their measured order: a run's ops run one at a time, as the probe's did."""
    for op in ops:
        inputs = tuple(env[i] for i in op.inputs if i in env)
        outputs, in_place = [], {}
        for output_id, size in op.outputs:
            tensor = b.tensor(_label(op.name), size, category)
            env[output_id] = tensor
            outputs.append(tensor)
        for output_id, input_id in op.shares:
            if input_id in env and output_id in env:
                in_place[env[output_id].name] = (env[input_id].name,)
        temps = ((op.temp_bytes, category),) if op.temp_bytes else ()
        b.ops.append(Op(b.scope_name(_label(op.name)), inputs, tuple(outputs), temps, {}, in_place, _flops(op)))


def _flops(op):
    # The simulation's weight of an op (what a recomputation costs): measured nanoseconds stand
    # for its arithmetic.
    return int(op.run_us * 1000)


def _label(name):
    """The measured node's name without the probe's scope: 'forward/block_0/Relu' -> 'Relu'."""
    parts = name.split("/")
    for scope in ("forward", "backward"):
        if scope in parts:
            parts = parts[parts.index(scope) + 1:]
            break
    if parts and parts[0].startswith("block_"):
        parts = parts[1:]
    return "/".join(parts) or name


def _op_data(op):
    return {"name": op.name, "inputs": list(op.inputs), "outputs": [list(o) for o in op.outputs],
            "shares": [list(s) for s in op.shares], "temp_bytes": op.temp_bytes, "start_us": op.start_us,
            "run_us": op.run_us}


def _op_of(data):
    return MeasuredOp(str(data["name"]), tuple(str(i) for i in data["inputs"]),
                      tuple((str(i), int(size)) for i, size in data["outputs"]),
                      tuple((str(o), str(i)) for o, i in data["shares"]), int(data["temp_bytes"]),
                      float(data["start_us"]), float(data["run_us"]))


def _backward_data(backward):
    return {"ops": [_op_data(op) for op in backward.ops], "weight_gradients": list(backward.weight_gradients),
            "input_gradient": backward.input_gradient}


def _backward_of(data):
    return Backward(tuple(_op_of(op) for op in data["ops"]), tuple(str(g) for g in data["weight_gradients"]),
                    None if data["input_gradient"] is None else str(data["input_gradient"]))
