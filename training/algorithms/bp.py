"""Backpropagation: the reference every other algorithm is compared with."""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks


class BP(Algorithm):
    name = "BP"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        logits = forward_blocks(blocks, features, training=True)[-1]
        with tf.name_scope("loss"):
            loss = loss_fn(logits, labels)
        variables = [v for block in blocks for v in block.variables]
        with tf.name_scope("backward"):
            gradients = tf.gradients(loss, variables)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        train_op = self.apply_after_all(make_optimizer(), list(zip(gradients, variables)), state_updates)
        return Step(train_op=train_op, loss=loss, logits=logits)
