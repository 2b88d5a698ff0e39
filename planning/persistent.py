"""Persistent memory of a run: the variables, which exist before and after every step.

What tracing.persistent_bytes measures on the trainer's graph, predicted from shapes: weights,
batch-norm moving averages, optimizer slots (momentum: one per weight; Adam: two, plus two
scalars per optimizer), stored feedback matrices, and the int64 global step.
"""
import numpy as np

from planning.auxiliary import head_shape

FLOAT = 4
GLOBAL_STEP = 8
#: Algorithms that apply updates block by block take one optimizer per block (Adam's bias
#: correction advances per apply_gradients call): one pair of Adam's beta powers each.
OPTIMIZER_PER_BLOCK = ("FA", "DFA", "DFAMEM", "DRTP", "BPCKPT")
OPTIMIZER_PER_BLOCK += ("PEPITA", "LOCAL")
OPTIMIZER_PER_BLOCK += ("USF", "BRSF", "FRSF", "FGRAD", "MEZO")
#: Algorithms that redraw random values every step keep the step number (training/draws.py): an int64.
DRAW_COUNTER = ("BRSF", "FGRAD", "MEZO")
#: Algorithms with a fixed matrix per hidden block, (classes x block output size, or per position).
BLOCK_FEEDBACK = ("DFA", "DFAMEM", "DRTP")


def persistent_breakdown(blocks, classes, algorithm, optimizer="sgd", feedback="stored", global_step=True):
    """{'weights', 'optimizer_state', 'other_variables'} in bytes, as tracing.persistent_breakdown.

    global_step: the trainer's graph has one; a bare training step (benchmarks) does not."""
    if algorithm == "LOCAL":  # the auxiliary heads' weights (and their slots) are variables too
        blocks = list(blocks) + [head_shape(block, classes, len(blocks[-1].output) > 1) for block in blocks[:-1]]
    layers = [part for block in blocks for layer in block.layers for part in layer.parts]
    weights = sum(_elements(shape) for layer in layers for shape in layer.variables) * FLOAT
    moving = sum(_elements(shape) for layer in layers for shape in layer.state) * FLOAT
    slots = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer] * weights
    if optimizer == "adam":
        optimizers = len(blocks) if algorithm in OPTIMIZER_PER_BLOCK else 1
        slots += optimizers * 2 * FLOAT
    matrices = 0
    if feedback == "stored":
        if algorithm in ("FA", "FRSF"):  # FRSF's |R| has FA's B's shape and draw
            matrices = sum(_elements(kernel) for block in blocks for layer in block.layers
                           for kernel in layer.kernels()) * FLOAT
        elif algorithm in BLOCK_FEEDBACK:
            # Per position on a transformer (its output (time, classes)): one (classes, dim) matrix.
            positions = len(blocks[-1].output) - 1
            matrices = sum(classes * _elements(block.output[positions:]) for block in blocks[:-1]) * FLOAT
        elif algorithm == "PEPITA":  # F: (classes, input size)
            matrices = classes * _elements(blocks[0].input) * FLOAT
    counter = GLOBAL_STEP if algorithm in DRAW_COUNTER else 0
    return {"weights": weights, "optimizer_state": slots,
            "other_variables": moving + matrices + counter + (GLOBAL_STEP if global_step else 0)}


def _elements(shape):
    return int(np.prod(shape, dtype=np.int64))
