"""The Algorithm seam: build one training step from blocks, a batch, a loss and an optimizer.

Algorithms differ only in how they *compute* updates (a list of (update, variable) pairs) and
in which tensors they keep alive; the optimizer *applies* the updates. Name scopes matter: the
memory tracer classifies ops by them (input/, forward/, loss/, backward/, feedback/, update/).
"""
from dataclasses import dataclass, field

import tensorflow as tf


@dataclass
class Step:
    train_op: tf.Operation
    loss: tf.Tensor
    logits: tf.Tensor
    #: Extra tensors worth logging (e.g. alignment angles), by name.
    stats: dict = field(default_factory=dict)


class Algorithm:
    name = None

    def __init__(self, config):
        self.config = config

    def build(self, blocks, features, labels, loss_fn, optimizer):
        """Return a Step whose train_op computes and applies one update."""
        raise NotImplementedError

    @staticmethod
    def apply(optimizer, pairs, state_updates=()):
        """Apply (update, variable) pairs after the state updates (batch-norm averages)."""
        with tf.name_scope("update"), tf.control_dependencies(list(state_updates)):
            return optimizer.apply_gradients(pairs)
