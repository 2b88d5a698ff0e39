"""FGRAD: one step against numpy (g = (grad L . v) v, Baydin et al. 2022), its mean over tangents
against BP's gradient, no backward op in its step, and its refusal of layers it has no JVP for."""
import re

import numpy as np
import pytest
import tensorflow as tf

from definitions.errors import ConfigError
from layers import ConvolutionalLayer, FullyConnected, ReLu
from tracing.categories import phase_of
from training import draws
from training.algorithms import FGRAD
from training.algorithms.fgrad import ACTIVITY_KEY_OFFSET
from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import mean_squared_error, sigmoid_cross_entropy, softmax_cross_entropy
from tests.training.algorithms import numpy_mlp
from tests.training.algorithms.harness import batch, run_steps

LR = 0.1
SEED = 3


def test_two_steps_match_numpy():
    """Step s draws v from (seed, variable number, s): regenerated here, the update from numpy's BP
    gradient: the directional derivative sum_i <grad_i L, v_i> times v."""
    x, y = batch((4,), classes=3, size=8)
    run = run_steps(FGRAD, numpy_mlp.mlp_layers, x, y, steps=2, learning_rate=LR)
    weights = [np.asarray(w, np.float64) for w in run.before]
    for step in range(2):
        tangent = [draws.normal(SEED, i, step, w.shape).numpy().astype(np.float64) for i, w in enumerate(weights)]
        grads = numpy_mlp.gradients(weights, x, y)
        derivative = sum(float(np.sum(g * v)) for g, v in zip(grads, tangent))
        weights = [w - LR * derivative * v for w, v in zip(weights, tangent)]
    for got, want, old in zip(run.after, weights, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


@pytest.mark.parametrize("samples", [1, 3])
def test_activity_perturbation_two_steps_match_numpy(samples):
    """Ren et al. (2023)'s activity perturbation: u_l ~ N(0, I) on each example's pre-activations,
    d_n = sum_l <dL/dz_l[n], u_l[n]> (here from numpy's chain rule), update of W_l: h_(l-1)^T (d u_l).
    fgrad_samples K: each example perturbed K times independently (K copies of the batch, the
    copies' rows of u drawn as one (K batch, units) draw) and the K estimates averaged."""
    x, y = batch((4,), classes=3, size=8)
    make = lambda config, feedback: FGRAD(config, feedback, perturbation="activity", samples=samples)  # noqa: E731
    run = run_steps(make, numpy_mlp.mlp_layers, x, y, steps=2, learning_rate=LR)
    weights = [np.asarray(w, np.float64) for w in run.before]
    copies = np.concatenate([x] * samples)
    for step in range(2):
        logits, pre, inputs = numpy_mlp.forward(weights, copies)
        deltas = [None, None, (numpy_mlp.softmax(logits) - np.concatenate([y] * samples)) / len(x)]
        for layer in (2, 1):
            deltas[layer - 1] = (deltas[layer] @ weights[2 * layer].T) * numpy_mlp.ACTIVATIONS[layer - 1][1](pre[layer - 1])
        u = [draws.normal(SEED, ACTIVITY_KEY_OFFSET + l, step, pre[l].shape).numpy().astype(np.float64) for l in range(3)]
        d = sum(np.sum(delta * u_l, axis=1) for delta, u_l in zip(deltas, u))
        grads = []
        for layer in range(3):
            # Each copy's estimate of the batch's mean-loss gradient, averaged over the copies.
            scaled = d[:, None] * u[layer] / samples
            grads += [inputs[layer].T @ scaled, scaled.sum(0)]
        weights = [w - LR * g for w, g in zip(weights, grads)]
    for got, want, old in zip(run.after, weights, run.before):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, old)


def test_samples_need_activity_perturbation():
    """One tangent of the weights serves the whole batch: copies would share it."""
    with pytest.raises(ConfigError, match="fgrad_perturbation to 'activity'"):
        FGRAD(config=None, feedback=Feedback(seed=SEED), perturbation="weights", samples=2)


def directions_graph(loss_fn, layers, perturbation="weights"):
    x, y = batch((4,), classes=3, size=8, seed=2)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)  # the initial weights: the same gradient every run
        blocks = split_into_blocks(layers)
        algorithm = FGRAD(config=None, feedback=Feedback(seed=5), perturbation=perturbation)
        features, labels = tf.constant(x), tf.constant(y)
        pairs = [pair for block in algorithm.update_directions(blocks, features, labels, loss_fn) for pair in block]
        variables = [v for _, v in pairs]
        true = tf.gradients(loss_fn(algorithm.true_loss(blocks, features, labels, lambda z, t: z), labels), variables)
        return graph, algorithm, [g for g, _ in pairs], true


@pytest.mark.parametrize("perturbation", ["weights", "activity"])
@pytest.mark.parametrize("loss_fn", [softmax_cross_entropy, sigmoid_cross_entropy, mean_squared_error])
def test_mean_over_tangents_converges_to_bp_gradient(loss_fn, perturbation):
    """E[(grad . v) v] = grad for v ~ N(0, I): the mean of n draws is off by about sqrt(parameters / n)
    of |grad|; 23 parameters, 8000 draws: 0.05. One draw is off by about sqrt(23) = 4.8. Activity
    perturbation's estimate is unbiased too (and less spread: 6 perturbed units per example)."""
    graph, algorithm, estimates, true = directions_graph(
        loss_fn, [FullyConnected(3), ReLu(), FullyConnected(3)], perturbation)
    with graph.as_default(), tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        true_values = np.concatenate([g.ravel() for g in session.run(true)])
        flat = tf.concat([tf.reshape(g, [-1]) for g in estimates], 0)
        samples = []
        for step in range(8000):
            algorithm.counter.variable.load(step, session)
            samples.append(session.run(flat))
    samples = np.array(samples, np.float64)
    error = lambda estimate: np.linalg.norm(estimate - true_values) / np.linalg.norm(true_values)  # noqa: E731
    assert error(samples[0]) > 1.0  # seed 0: 1.0 to 5.6 (activity 1.3 to 1.9)
    assert error(samples.mean(0)) < 0.12  # 0.05 (activity 0.02 to 0.03)


@pytest.mark.parametrize("perturbation", ["weights", "activity"])
def test_step_holds_no_backward_op(perturbation):
    """The forward gradient needs no gradient op and nothing the tracer counts as backward."""
    x, y = batch((4,), classes=3, size=8)
    graph = tf.Graph()
    with graph.as_default():
        blocks = split_into_blocks(numpy_mlp.mlp_layers())
        FGRAD(config=None, feedback=Feedback(seed=1), perturbation=perturbation).build(
            blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy,
            lambda: tf.compat.v1.train.GradientDescentOptimizer(0.1))
    step_ops = [op for op in graph.get_operations() if not op.name.startswith(("model/", "shape_check/"))]
    assert step_ops
    for op in step_ops:
        assert not any(part in ("backward", "feedback", "gradients") for part in op.name.split("/")), op.name
        assert not re.search(r"Grad(V\d+)?$|Backprop", op.type), (op.name, op.type)
        assert phase_of(op.name, op.type) != "backward", (op.name, op.type)  # as the tracer classifies it


def test_refuses_a_convolution():
    x, y = batch((4, 4, 1), classes=3, size=4)
    with tf.Graph().as_default():
        blocks = split_into_blocks([ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME"), ReLu(),
                                    FullyConnected(3, flatten=True)])
        with pytest.raises(ConfigError, match=r"FGRAD computes forward gradients of dense layers .*"
                                              r"block_0 has ConvolutionalLayer"):
            FGRAD(config=None).build(blocks, tf.constant(x), tf.constant(y), softmax_cross_entropy, None)


@pytest.mark.parametrize("loss_fn", [softmax_cross_entropy, mean_squared_error])
def test_tanh_leaky_relu_and_flatten_against_a_tape(loss_fn):
    """The other tangents (Tanh, LeakyReLu, a flattening dense layer): the step's update is
    (grad L . v) v with grad L from tf.GradientTape on the same weights and v regenerated."""
    from layers import LeakyReLu, Tanh
    x, y = batch((2, 3), classes=3, size=6, seed=1)
    layers = lambda: [FullyConnected(5, flatten=True), Tanh(), FullyConnected(4), LeakyReLu(0.2),  # noqa: E731
                      FullyConnected(3)]
    graph = tf.Graph()
    with graph.as_default():
        blocks = split_into_blocks(layers())
        step = FGRAD(config=None, feedback=Feedback(seed=SEED)).build(
            blocks, tf.constant(x), tf.constant(y), loss_fn, lambda: tf.compat.v1.train.GradientDescentOptimizer(LR))
        variables = [v for block in blocks for v in block.variables]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            before = session.run(variables)
            session.run(step.train_op)
            after = session.run(variables)
    eager = layers()
    h = tf.constant(x)
    for layer in eager:
        h = layer.forward(h, training=True)
    eager_variables = [v for layer in eager for v in layer.variables]
    for variable, value in zip(eager_variables, before):
        variable.assign(value)
    with tf.GradientTape() as tape:
        h = tf.constant(x)
        for layer in eager:
            h = layer.forward(h, training=True)
        loss = loss_fn(h, tf.constant(y))
    grads = [g.numpy().astype(np.float64) for g in tape.gradient(loss, eager_variables)]
    tangent = [draws.normal(SEED, i, 0, w.shape).numpy().astype(np.float64) for i, w in enumerate(before)]
    derivative = sum(float(np.sum(g * v)) for g, v in zip(grads, tangent))
    for got, old, v in zip(after, before, tangent):
        np.testing.assert_allclose(got, old - LR * derivative * v, rtol=1e-5, atol=1e-5)
        assert not np.allclose(got, old, atol=1e-4)
