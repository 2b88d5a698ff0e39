"""FA whose feedback kernels equal the forward kernels is backpropagation."""
import numpy as np
import pytest

from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu, ResidualLayer, Sigmoid
from training.algorithms import BP, FA
from training.feedback import FA_KEY_OFFSET
from tests.training.algorithms.harness import batch, run_steps

NETWORKS = {
    "mlp": (lambda: [FullyConnected(6), Sigmoid(), FullyConnected(5), ReLu(), FullyConnected(3)], (4,)),
    "conv_residual": (lambda: [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME"), ReLu(),
                               ResidualLayer([ConvolutionalLayer((3, 3), 3, strides=[2, 2], padding="SAME"),
                                              BatchNormalization(), ReLu()]),
                               FullyConnected(3, flatten=True)], (4, 4, 1)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_fa_with_feedback_equal_to_the_kernels_is_bp(name):
    make_layers, shape = NETWORKS[name]
    x, y = batch(shape, size=6)
    bp = run_steps(BP, make_layers, x, y)
    fa = run_steps(FA, make_layers, x, y, initial=bp.before,
                   set_feedback=lambda kernels: {FA_KEY_OFFSET + k: w for k, w in enumerate(kernels)})
    for got, want in zip(fa.after, bp.after):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_fa_with_random_feedback_differs_from_bp_but_not_in_the_last_layer():
    make_layers, shape = NETWORKS["mlp"]
    x, y = batch(shape, size=6)
    bp = run_steps(BP, make_layers, x, y)
    fa = run_steps(FA, make_layers, x, y, initial=bp.before)
    assert not np.allclose(fa.after[0], bp.after[0], atol=1e-6)  # first kernel: error came through B
    np.testing.assert_allclose(fa.after[-2], bp.after[-2], rtol=1e-5)  # last kernel: the true error
    assert len(fa.feedback) == 3 and fa.feedback[FA_KEY_OFFSET].shape == (4, 6)
