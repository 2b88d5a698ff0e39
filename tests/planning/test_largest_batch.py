"""The largest batch that fits: searched on the model, monotone, exact at the boundary."""
import pytest
import tensorflow as tf

from layers import ConvolutionalLayer, FullyConnected, MaxPool, ReLu, Tanh
from planning.model import MemoryModel
from training.blocks import forward_blocks, split_into_blocks

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`


def model(layers, input_shape, classes=10, **settings):
    blocks = split_into_blocks(layers)
    with tf.Graph().as_default():
        forward_blocks(blocks, tf.compat.v1.placeholder(tf.float32, [None, *input_shape]), training=False)
    return MemoryModel(blocks, input_shape, classes, threads=2, **settings)


MLP = lambda: model([FullyConnected(300, flatten=True), Tanh(), FullyConnected(300), Tanh(), FullyConnected(10)],  # noqa: E731
                    (28, 28, 1), optimizer="momentum")
CONV = lambda: model([ConvolutionalLayer((3, 3), 8), ReLu(), MaxPool(), FullyConnected(10, flatten=True)], (16, 16, 3))  # noqa: E731


@pytest.mark.parametrize("make", [MLP, CONV], ids=["mlp", "conv"])
@pytest.mark.parametrize("kind", ["BP", "DFAMEM", "DRTP"])
def test_predicted_total_grows_with_the_batch_and_the_search_stops_at_the_boundary(make, kind):
    memory = make()
    totals = [memory.predict(kind, batch).total_bytes for batch in range(1, 65)]
    assert all(b >= a for a, b in zip(totals, totals[1:]))
    assert totals[-1] > totals[0]
    for budget in (totals[0], totals[9] + 1, totals[40] - 1, (totals[20] + totals[21]) // 2):
        largest = memory.largest_batch(kind, budget)
        assert memory.predict(kind, largest).total_bytes <= budget < memory.predict(kind, largest + 1).total_bytes


def test_a_budget_below_batch_one_has_no_batch_and_a_huge_one_is_capped():
    memory = MLP()
    one = memory.predict("BP", 1).total_bytes
    assert memory.largest_batch("BP", one - 1) is None
    assert memory.largest_batch("BP", one) == 1
    weights_only = memory.predict("BP", 1).persistent_bytes
    assert memory.largest_batch("BP", weights_only) is None  # the weights alone are not a step


def test_the_same_inputs_give_the_same_prediction():
    first, second = MLP(), MLP()
    for kind in ("BP", "BPCKPT", "FA", "DFA", "DFAMEM", "DRTP"):
        assert first.predict(kind, 17) == second.predict(kind, 17)
