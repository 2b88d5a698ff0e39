"""USF, BRSF and FRSF against numpy: FA's step with BioTorch's sign-concordant feedback matrices."""
import math

import numpy as np
import pytest

from training import draws
from training.algorithms import BRSF, FRSF, USF
from training.feedback import FA_KEY_OFFSET, Feedback
from tests.training.algorithms import numpy_mlp
from tests.training.algorithms.harness import batch, run_steps

LR = 0.1
SEED = 3  # the harness's Feedback(seed=3)


def glorot_limit(shape):
    return math.sqrt(6.0 / (shape[0] + shape[1]))


def usf_feedback(weights, step, run):
    return {l: math.sqrt(2.0 / sum(weights[2 * l].shape)) * np.sign(weights[2 * l]) for l in (1, 2)}


def brsf_feedback(weights, step, run):
    """|R| sign(W), R ~ U(-a, a) drawn for this step: regenerated from the seed, kernel key and step."""
    return {l: np.abs(draws.uniform(SEED, FA_KEY_OFFSET + l, step, weights[2 * l].shape,
                                    glorot_limit(weights[2 * l].shape)).numpy()) * np.sign(weights[2 * l])
            for l in (1, 2)}


def frsf_feedback(weights, step, run):
    return {l: np.abs(run.feedback[FA_KEY_OFFSET + l]) * np.sign(weights[2 * l]) for l in (1, 2)}


@pytest.mark.parametrize("algorithm,feedback", [(USF, usf_feedback), (BRSF, brsf_feedback), (FRSF, frsf_feedback)],
                         ids=["USF", "BRSF", "FRSF"])
def test_two_steps_match_numpy(algorithm, feedback):
    x, y = batch((4,), classes=3, size=8)
    run = run_steps(algorithm, numpy_mlp.mlp_layers, x, y, steps=2, learning_rate=LR)
    weights = [np.asarray(w, np.float64) for w in run.before]
    for step in range(2):
        matrices = feedback(weights, step, run)
        grads = numpy_mlp.gradients(weights, x, y, [None, matrices[1], matrices[2]])
        weights = [w - LR * g for w, g in zip(weights, grads)]
    for got, want, old in zip(run.after, weights, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


def test_brsf_redraws_and_frsf_keeps_its_magnitudes():
    """The step-1 draw differs from step 0's (else BRSF is FRSF); FRSF's stored R is FA's draw."""
    shape = (6, 5)
    first, second = (draws.uniform(SEED, FA_KEY_OFFSET + 1, step, shape, glorot_limit(shape)).numpy() for step in (0, 1))
    assert not np.allclose(np.abs(first), np.abs(second))
    x, y = batch((4,), classes=3, size=8)
    run = run_steps(FRSF, numpy_mlp.mlp_layers, x, y, steps=1)
    assert sorted(run.feedback) == [FA_KEY_OFFSET + k for k in range(3)]  # one R per kernel, as FA's B
    assert np.abs(run.feedback[FA_KEY_OFFSET + 1]).max() <= glorot_limit(shape)


def test_frsf_regenerated_is_frsf_stored():
    """feedback: regenerate draws FA's R inside the step from the same stateless seed: same update."""
    x, y = batch((4,), classes=3, size=8)
    stored = run_steps(FRSF, numpy_mlp.mlp_layers, x, y, steps=2)
    regenerated = run_steps(FRSF, numpy_mlp.mlp_layers, x, y, steps=2, initial=stored.before,
                            feedback=Feedback(seed=SEED, regenerate=True))
    assert regenerated.feedback == {}
    for got, want in zip(regenerated.after, stored.after):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
