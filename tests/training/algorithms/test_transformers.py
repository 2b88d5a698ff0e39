"""Every algorithm on a tiny transformer: BP against tf.GradientTape, DFA and DRTP against a tape
reference of their equations (the error projected per position, one matrix per block), DFAMEM
equal to DFA, BPCKPT equal to BP, alignment angles defined. In both layouts: GPT-2's (pre-norm,
a block per sub-layer) and Launay et al.'s (post-norm, a block per transformer layer, the
embedding inside the first), where DFA's error arrives at a layer's output and is
backpropagated through both of its sub-layers."""
import numpy as np
import pytest
import tensorflow as tf

from definitions.sequences import transformer
from training.algorithms import BP, BPCKPT, DFA, DFAMEM, DRTP, FA
from training.blocks import split_into_blocks
from training.losses import softmax_cross_entropy
from tests.training.algorithms.harness import run_steps

VOCAB, TIME, LR = 7, 5, 0.1


def tiny():
    return transformer(VOCAB, layers=1, dim=8, heads=2, context=TIME)


def tiny_launay():
    """Two layers, so that one block is a whole layer alone: blocks [embedding + layer 1], [layer 2], [head]."""
    return transformer(VOCAB, layers=2, dim=8, heads=2, context=TIME, norm="post", blocks="layer",
                       embedding_block=False)


LAYOUTS = pytest.mark.parametrize("make", [tiny, tiny_launay], ids=["pre_sublayer", "post_layer"])


def tokens(size=3, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, (size, TIME + 1))
    return ids[:, :-1].astype(np.float32), np.eye(VOCAB, dtype=np.float32)[ids[:, 1:]]


def _eager_blocks(before, x, make=tiny):
    """The tiny transformer's blocks built eagerly, holding the weights `before`."""
    blocks = split_into_blocks(make())
    h = tf.constant(x)
    for block in blocks:
        h = block.forward(h, training=True)
    for variable, value in zip([v for block in blocks for v in block.variables], before):
        variable.assign(value)
    return blocks


@LAYOUTS
def test_one_bp_step_equals_gradient_tape(make):
    x, y = tokens()
    run = run_steps(BP, make, x, y, learning_rate=LR)
    blocks = _eager_blocks(run.before, x, make)
    variables = [v for block in blocks for v in block.variables]
    with tf.GradientTape() as tape:
        h = tf.constant(x)
        for block in blocks:
            h = block.forward(h, training=True)
        loss = softmax_cross_entropy(h, tf.constant(y))
    gradients = tape.gradient(loss, variables)
    # pre-norm: embeddings 2, attention 4, mlp 6, final norm 2, head 2; post-norm, 2 layers: 2 + 2 * 10 + 2
    assert len(gradients) == len(run.after) == {tiny: 16, tiny_launay: 24}[make]
    for old, new, gradient in zip(run.before, run.after, gradients):
        np.testing.assert_allclose(new, old - LR * tf.convert_to_tensor(gradient).numpy(), rtol=1e-4, atol=1e-6)
        assert not np.allclose(new, old)


@LAYOUTS
@pytest.mark.parametrize("algorithm", [DFA, DRTP])
def test_dfa_and_drtp_project_per_position_to_each_block(algorithm, make):
    """Each hidden block's update is the local gradient of its output against e @ B_i (DFA) or
    -y @ B_i (DRTP), applied at every position with one (vocab, dim) matrix; the last block gets e."""
    x, y = tokens()
    run = run_steps(algorithm, make, x, y, learning_rate=LR)
    blocks = _eager_blocks(run.before, x, make)
    assert len(blocks) == 3 + (make is tiny)  # post-norm: one feedback per layer, none to the embedding alone
    with tf.GradientTape(persistent=True) as tape:
        h, outputs = tf.constant(x), []
        for block in blocks:
            h = block.forward(h, training=True)
            outputs.append(h)
        loss = softmax_cross_entropy(h, tf.constant(y))
    error = tape.gradient(loss, outputs[-1]).numpy()
    signal = error if algorithm is DFA else -y
    expected = []
    for block, output in zip(blocks, outputs):
        if block is blocks[-1]:
            delta = error
        else:
            matrix = run.feedback[block.index]
            assert matrix.shape == (VOCAB, 8)  # per position: (vocab, dim), not (vocab, time * dim)
            delta = (signal.reshape(-1, VOCAB) @ matrix).reshape(output.shape)
        gradients = tape.gradient(output, block.variables, output_gradients=tf.constant(delta, tf.float32))
        expected += [tf.convert_to_tensor(g).numpy() for g in gradients]
    for old, new, gradient in zip(run.before, run.after, expected):
        np.testing.assert_allclose(new, old - LR * gradient, rtol=1e-4, atol=1e-6)
    assert all(not np.allclose(new, old) for old, new in zip(run.before, run.after))


@LAYOUTS
def test_dfamem_equals_dfa_and_bpckpt_equals_bp(make):
    x, y = tokens(size=4, seed=1)
    # SGD, not Adam: the key projection's bias has a zero gradient (softmax ignores a score added
    # to a whole row), and Adam would turn the round-off of each way of computing it into full steps.
    runs = {algorithm: run_steps(algorithm, make, x, y, steps=3, learning_rate=LR)
            for algorithm in (DFA, DFAMEM, BP, BPCKPT)}
    for a, b in ((DFA, DFAMEM), (BP, BPCKPT)):
        np.testing.assert_allclose(runs[a].losses, runs[b].losses, rtol=1e-5, atol=1e-6)
        for got, want in zip(runs[b].after, runs[a].after):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@LAYOUTS
@pytest.mark.parametrize("algorithm", [FA, DFA, DRTP])
def test_alignment_angles_per_block(algorithm, make):
    x, y = tokens(size=4)
    run = run_steps(algorithm, make, x, y, gather_stats=True)
    angles, last = run.stats[0], len(split_into_blocks(make())) - 1
    assert sorted(angles) == [f"alignment/block_{i}" for i in range(last + 1)]
    assert all(0 <= angle <= 180 for angle in angles.values())
    if algorithm is not FA:  # the last block gets the true error: BP's gradient
        assert angles[f"alignment/block_{last}"] < 1e-2
    assert all(not np.allclose(new, old) for old, new in zip(run.before, run.after))
