"""Build one algorithm's training step in a fresh graph and run it from given weights."""
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from training.blocks import split_into_blocks
from training.feedback import Feedback
from training.losses import softmax_cross_entropy


@dataclass
class StepRun:
    before: list  # variable values before the first step, in block order
    after: list  # ... after the last step
    feedback: dict  # stored feedback matrices by key (empty when regenerated)
    losses: list
    stats: list  # the statistics of each step's batch, before its update (empty dicts without gather_stats)


def run_steps(algorithm, make_layers, x, y, steps=1, learning_rate=0.1, initial=None, feedback=None,
              set_feedback=None, optimizer=None, gather_stats=False, state_variables=False, every_trainable=False):
    """`initial`: values for the trainable variables; `set_feedback(kernels) -> {key: value}`.
    every_trainable: the graph's trainable variables (the blocks', then any the algorithm made,
    such as LOCAL's auxiliary heads) instead of the blocks' alone."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        blocks = split_into_blocks(make_layers())
        instance = algorithm(config=None, feedback=feedback or Feedback(seed=3))
        make_optimizer = optimizer or (lambda: tf.compat.v1.train.GradientDescentOptimizer(learning_rate))
        features, labels = tf.constant(x), tf.constant(y)
        step = instance.build(blocks, features, labels, softmax_cross_entropy, make_optimizer)
        statistics = instance.statistics(blocks, features, labels, softmax_cross_entropy) if gather_stats else {}
        variables = [v for block in blocks for v in block.variables]
        if every_trainable:
            variables += [v for v in tf.compat.v1.trainable_variables() if all(v is not w for w in variables)]
        if state_variables:
            variables += [v for block in blocks for v in block.non_trainable_variables]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            if initial is not None:
                for variable, value in zip(variables, initial):
                    variable.load(value, session)
            if set_feedback is not None:
                kernels = session.run([v for v in variables if "kernel" in v.name])
                for key, value in set_feedback(kernels).items():
                    instance.feedback.stored[key].load(value, session)
            before = session.run(variables)
            losses, stats = [], []
            for _ in range(steps):
                stats.append(session.run(statistics))  # its own run, as the trainer does
                _, loss = session.run([step.train_op, step.loss])
                losses.append(loss)
            after = session.run(variables)
            matrices = {key: session.run(var) for key, var in instance.feedback.stored.items()}
    return StepRun(before, after, matrices, losses, stats)


def batch(shape, classes=3, size=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size, *shape)).astype(np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, size)]
    return x, y
