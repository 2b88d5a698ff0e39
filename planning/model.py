"""The memory model's API: a network's shapes once, then predictions per algorithm and batch.

    model = MemoryModel(blocks, input_shape, classes, optimizer="momentum")   # built blocks
    prediction = model.predict("DFAMEM", batch_size=64)
    prediction.peak_bytes, prediction.persistent_bytes, prediction.total_bytes
    prediction.recompute_fraction                     # forward FLOPs run again / one BP step's FLOPs
    model.flop_ratio("DFA")                           # the step's FLOPs / BP's
    model.largest_batch("BP", budget_bytes)           # None when even batch 1 does not fit

peak_bytes is what the tracer's summary.json calls peak_bytes (the transient peak of one
training step), persistent_bytes what it calls persistent_bytes (the variables).
BPCKPT follows `checkpoint_plan` (a planning.checkpoint_plan.Segment), else uniform segments
of `segment_size` blocks.
"""
import os
from dataclasses import dataclass, field

from planning.algorithms import StepProgram
from planning.persistent import persistent_breakdown
from planning.program import simulate
from planning.recompute import recompute_fraction, recomputed_forward_flops, step_flops
from planning.shapes import BlockShape, block_shapes

ALGORITHMS = ("BP", "BPCKPT", "FA", "DFA", "DFAMEM", "DRTP")
ALGORITHMS += ("PEPITA", "LOCAL")
ALGORITHMS += ("USF", "BRSF", "FRSF", "FGRAD", "MEZO")  # issue 23 (planning/atlas_rules.py)
LARGEST_BATCH_SEARCHED = 1 << 24


@dataclass(frozen=True)
class Prediction:
    network: str
    sequence: str
    algorithm: str
    batch_size: int
    peak_bytes: int
    persistent_bytes: int
    peak_op: str = ""
    peak_by_category: dict = field(default_factory=dict)
    persistent_by_kind: dict = field(default_factory=dict)
    # The forward FLOPs the step runs again (BPCKPT, DFAMEM) over one BP step's FLOPs: the time
    # it adds to BP's step, where matmuls and convolutions dominate.
    recompute_fraction: float = 0.0

    @property
    def total_bytes(self):
        return self.peak_bytes + self.persistent_bytes


class MemoryModel:
    def __init__(self, blocks, input_shape, classes, *, name="custom", sequence="", optimizer="sgd",
                 cost_function="softmax_cross_entropy", feedback="stored", segment_size=None, checkpoint_plan=None,
                 threads=None, global_step=True, kernels=None, fgrad_perturbation="weights", fgrad_samples=1,
                 mezo_samples=1, update_every=1):
        """`blocks`: built blocks (training.preflight.build_sequence), or BlockShapes already read.
        kernels: (BlockShape, batch size) -> planning.measured.BlockKernels, the blocks' kernels
        measured on the run's device (training/kernel_measure.py); None: the layer rules."""
        self.kernels = kernels
        self.blocks = blocks if blocks and isinstance(blocks[0], BlockShape) else block_shapes(blocks)
        self.input_shape, self.classes = tuple(input_shape), int(classes)
        self.name, self.sequence = name, sequence
        self.optimizer, self.cost_function, self.feedback = optimizer, cost_function, feedback
        self.segment_size, self.checkpoint_plan = segment_size, checkpoint_plan
        self.fgrad_perturbation = fgrad_perturbation
        self.fgrad_samples, self.mezo_samples = fgrad_samples, mezo_samples
        self.update_every = update_every  # FA's and DFA's blocks updated together
        self._fractions = {}  # (algorithm, feedback) -> recompute_fraction: the same for every batch size
        self.global_step = global_step  # the trainer's graph holds an int64 step counter
        # The trainer's session leaves intra-op threads to TensorFlow: one per CPU core.
        self.threads = threads or os.cpu_count() or 1

    def predict(self, algorithm, batch_size, feedback=None, plan=None):
        """plan: BPCKPT's plan for this prediction (default: the model's checkpoint_plan). The step's
        ops run one at a time, in the algorithm's order (a run's session has one inter-op thread)."""
        feedback = feedback or self.feedback
        plan = plan or self.checkpoint_plan
        # FGRAD's copies run as one batch of that many copies (training/algorithms/fgrad.py).
        program_batch = batch_size * (self.fgrad_samples if algorithm == "FGRAD" else 1)
        builder = getattr(self._program(program_batch, feedback, plan), algorithm.lower())()
        result = simulate(builder.ops, external=builder.external, keep=builder.fetched)
        persistent = persistent_breakdown(self.blocks, self.classes, algorithm, self.optimizer, feedback,
                                          self.global_step)
        return Prediction(self.name, self.sequence, algorithm, int(batch_size), result.peak_bytes,
                          sum(persistent.values()), result.peak_op, result.by_category_at_peak, persistent,
                          self.recompute_fraction(algorithm, feedback, plan))

    def recompute_fraction(self, algorithm, feedback=None, plan=None):
        """The forward FLOPs the algorithm's step runs again over one BP step's FLOPs (planning/recompute.py).

        Counted at batch 1: every count is proportional to the batch.
        """
        plan = plan or self.checkpoint_plan
        key = (algorithm, feedback or self.feedback, str(plan) if algorithm == "BPCKPT" else None)
        if key not in self._fractions:
            ops = getattr(self._program(1, key[1], plan), algorithm.lower())().ops
            bp_ops = self._program(1, key[1], plan).bp().ops if recomputed_forward_flops(ops) else ()
            self._fractions[key] = recompute_fraction(ops, bp_ops) if bp_ops else 0.0
        return self._fractions[key]

    def flop_ratio(self, algorithm, feedback=None, plan=None):
        """The FLOPs of the algorithm's step over BP's on the same network (planning/recompute.py):
        what its arithmetic implies for its step time against BP's. Counted at batch 1 from the
        layer rules' programs, whatever kernels the model measured."""
        feedback, plan = feedback or self.feedback, plan or self.checkpoint_plan

        def flops(name):  # a program per step: a program's builder keeps the ops of every call
            batch = self.fgrad_samples if name == "FGRAD" else 1  # its copies run as one batch (predict)
            builder = getattr(self._program(batch, feedback, plan, measured=False), name.lower())()
            return step_flops(builder.ops, keep=builder.fetched)
        return flops(algorithm) / flops("BP")

    def _program(self, batch_size, feedback, plan, measured=True):
        """measured=False: the layer rules' ops (with their FLOPs) even where the model measured kernels."""
        return StepProgram(self.blocks, self.classes, batch_size, self.cost_function, feedback,
                           self.segment_size, self.threads, plan=plan, kernels=self.kernels if measured else None,
                           fgrad_perturbation=self.fgrad_perturbation, fgrad_samples=self.fgrad_samples,
                           mezo_samples=self.mezo_samples, update_every=self.update_every)

    def largest_batch(self, algorithm, budget_bytes, feedback=None):
        """The largest batch size whose predicted total fits the budget; None if batch 1 does not.

        Searched (doubling, then bisection) on the model's own predictions, which grow with the
        batch size; the answer fits and the next batch size does not.
        """
        fits = lambda batch: self.predict(algorithm, batch, feedback).total_bytes <= budget_bytes  # noqa: E731
        if not fits(1):
            return None
        low, high = 1, 2
        while high <= LARGEST_BATCH_SEARCHED and fits(high):
            low, high = high, high * 2
        if high > LARGEST_BATCH_SEARCHED:
            return low
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if fits(middle) else (low, middle)
        return low

