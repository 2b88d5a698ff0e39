"""BP's update equals the one computed from tf.GradientTape on the same network and batch."""
import numpy as np
import pytest
import tensorflow as tf

from layers import BatchNormalization, ConvolutionalLayer, FullyConnected, ReLu, Sigmoid
from training.algorithms.bp import BP
from training.blocks import split_into_blocks
from training.losses import COST_FUNCTIONS


def network():
    return [ConvolutionalLayer((3, 3), 2, strides=[1, 1], padding="SAME", add_biases=True), ReLu(),
            BatchNormalization(momentum=0.9), FullyConnected(5, flatten=True), Sigmoid(), FullyConnected(3)]


@pytest.mark.parametrize("cost", sorted(COST_FUNCTIONS))
def test_one_bp_step_equals_gradient_tape(cost):
    rng = np.random.default_rng(0)
    x = rng.random((4, 6, 6, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    learning_rate = 0.1

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        blocks = split_into_blocks(network())
        step = BP(config=None).build(blocks, tf.constant(x), tf.constant(y), COST_FUNCTIONS[cost],
                                     lambda: tf.compat.v1.train.GradientDescentOptimizer(learning_rate))
        variables = [v for block in blocks for v in block.variables]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            before = session.run(variables)
            session.run(step.train_op)
            after = session.run(variables)

    layers = network()
    h = tf.constant(x)
    for layer in layers:  # build, then load the graph's initial weights
        h = layer.forward(h, training=True)
    eager_variables = [v for layer in layers for v in layer.variables]
    for variable, value in zip(eager_variables, before):
        variable.assign(value)
    with tf.GradientTape() as tape:
        h = tf.constant(x)
        for layer in layers:
            h = layer.forward(h, training=True)
        loss = COST_FUNCTIONS[cost](h, tf.constant(y))
    gradients = tape.gradient(loss, eager_variables)
    assert len(after) == len(gradients) == 8
    for old, new, gradient in zip(before, after, gradients):
        np.testing.assert_allclose(new, old - learning_rate * gradient.numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(new, old)  # every variable really moved
