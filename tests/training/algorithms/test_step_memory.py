"""What each algorithm keeps alive during a step, checked in real traces (not by reasoning).

Algorithms order their ops with control dependencies so that TensorFlow's executor frees
memory early; a change that loses the order still computes the right updates, so only a
trace can catch it.
"""
import pytest

from training.algorithms import BP, DFA, DFAMEM, DRTP, FA
from training.feedback import Feedback
from tests.training.algorithms.test_bpckpt import traced_peak, traced_records

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

WIDTH, BATCH = 64, 64
WEIGHTS = (WIDTH * WIDTH + WIDTH) * 4  # one block's kernel and bias, or its update


def peak(algorithm, blocks, batch_size=BATCH):
    return traced_peak(algorithm(None, Feedback(0)), blocks_count=blocks, width=WIDTH, batch_size=batch_size)


# DFAMEM: one block at a time, in a strict order. DRTP lets the next block's forward pass run
# beside this block's update (drtp.LAG = 1): two blocks at most, in an order that varies.
@pytest.mark.parametrize("algorithm,tolerance", [(DFAMEM, 1.1), (DRTP, 1.5)], ids=["DFAMEM", "DRTP"])
def test_peak_is_flat_with_depth(algorithm, tolerance):
    shallow, deep = peak(algorithm, 4), peak(algorithm, 16)
    assert deep <= tolerance * shallow, (shallow, deep)
    assert peak(BP, 16) > 2 * deep  # BP holds every block's activations and gradients


# Batch 16: a block's weight gradient (64 x 64 floats) is four times its activation, so what an
# algorithm does with the weight gradients decides the peak.
SMALL_BATCH = 16


def test_fa_and_dfa_free_each_weight_gradient_when_applied_bp_holds_them_all():
    """FA's and DFA's backward passes never read W, so each block's update is applied as soon as
    it exists: the step ends with nothing left allocated (a weight copy would stay), and the
    peak is far below BP's, which holds every weight gradient until the last one exists."""
    bp = peak(BP, 16, SMALL_BATCH)
    assert bp > 15 * WEIGHTS  # all of them at once (15 blocks of 64 x 64, then the 64 x 3 output block)
    for algorithm in (FA, DFA):
        records = traced_records(algorithm(None, Feedback(0)), blocks_count=16, width=WIDTH, batch_size=SMALL_BATCH)
        assert sum(record.delta_bytes for record in records) < WEIGHTS, algorithm.name
        assert peak(algorithm, 16, SMALL_BATCH) < 0.5 * bp, algorithm.name


@pytest.mark.parametrize("algorithm", [BP, FA, DFAMEM])
def test_imposed_order_gives_the_same_peak_every_run(algorithm):
    """BP and FA go block by block (Algorithm.backward_in_order), DFAMEM recomputes block by
    block: left to the executor, BP's and FA's peaks varied by up to 9% from run to run."""
    peaks = [peak(algorithm, 16) for _ in range(4)]
    assert max(peaks) <= 1.01 * min(peaks), peaks
