"""What each algorithm keeps alive during a step, checked in real traces (not by reasoning).

Algorithms order their ops with control dependencies so that TensorFlow's executor frees
memory early; a change that loses the order still computes the right updates, so only a
trace can catch it.
"""
import pytest

from training.algorithms import BP, DFA, DFAMEM, DRTP, FA
from training.feedback import Feedback
from tests.training.algorithms.test_bpckpt import traced_peak, traced_records

WIDTH, BATCH = 64, 64
WEIGHTS = (WIDTH * WIDTH + WIDTH) * 4  # one block's kernel and bias, or its update


def peak(algorithm, blocks):
    return traced_peak(algorithm(None, Feedback(0)), blocks_count=blocks, width=WIDTH, batch_size=BATCH)


# DFAMEM: one block at a time, in a strict order. DRTP lets the next block's forward pass run
# beside this block's update (drtp.LAG = 1): two blocks at most, in an order that varies.
@pytest.mark.parametrize("algorithm,tolerance", [(DFAMEM, 1.1), (DRTP, 1.5)], ids=["DFAMEM", "DRTP"])
def test_peak_is_flat_with_depth(algorithm, tolerance):
    shallow, deep = peak(algorithm, 4), peak(algorithm, 16)
    assert deep <= tolerance * shallow, (shallow, deep)
    assert peak(BP, 16) > 2 * deep  # BP holds every block's activations and gradients


@pytest.mark.parametrize("algorithm", [FA, DFA])
def test_updates_applied_when_ready_free_the_gradients_without_copying_weights(algorithm):
    """FA and DFA never read W in the backward pass, so each update is applied as soon as it
    exists: the step ends with nothing left allocated (a weight copy would stay), and the
    peak is below BP's, which holds every weight gradient until the last one exists."""
    records = traced_records(algorithm(None, Feedback(0)), blocks_count=16, width=WIDTH, batch_size=BATCH)
    assert sum(record.delta_bytes for record in records) < WEIGHTS
    assert peak(algorithm, 16) < 0.8 * peak(BP, 16)
