"""Forward gradient (Baydin, Pearlmutter, Syme, Wood & Torr 2022, "Gradients without backpropagation").

Each step draws a tangent v ~ N(0, I) of every weight's shape, computes in the single forward pass
the directional derivative d = grad L . v by forward-mode differentiation (training/tangents.py:
each layer's output and its tangent side by side, no backward op), and updates with g = d * v, an
unbiased estimate of grad L. Defined for dense layers and pointwise activations (the paper's MLPs);
other layers are refused with one line.

Memory: nothing is kept for a backward pass; beside each activation lives its tangent. v is drawn
from (run seed, variable, step counter) (training/draws.py) right before the layer that reads it,
and drawn again for the update once d exists, so no tangent of the weights outlives its layer.
"""
import tensorflow as tf

from training import draws, tangents
from training.algorithms.base import Algorithm, Step, scope


class FGRAD(Algorithm):
    name = "FGRAD"

    def __init__(self, config, feedback=None):
        super().__init__(config, feedback)
        self.counter = draws.DrawCounter(self.feedback.seed)

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        loss, logits, derivative, counter = self._forward(blocks, features, labels, loss_fn)
        updates, first = [], 0
        for block in blocks:
            # One block at a time: its tangents are drawn again after the previous block's update,
            # so one block's are alive at a time (they depend only on the counter and d, and the
            # executor would otherwise draw them all as soon as d exists).
            with scope("update"), tf.control_dependencies(updates[-1:]):
                pairs = self._pairs(block, first, derivative, counter)
            updates.append(self.apply(make_optimizer(), pairs))
            first += len(pairs)
        return Step(train_op=self.counter.advance(updates), loss=loss, logits=logits)

    def update_directions(self, blocks, features, labels, loss_fn):
        _, _, derivative, counter = self._forward(blocks, features, labels, loss_fn)
        pairs_by_block, first = [], 0
        for block in blocks:
            pairs_by_block.append(self._pairs(block, first, derivative, counter))
            first += len(pairs_by_block[-1])
        return pairs_by_block

    def tangent(self, key, variable, counter):
        """v for the variable numbered `key` (in block order) at step `counter`."""
        return draws.normal(self.feedback.seed, key, counter, variable.shape)

    def _pairs(self, block, first, derivative, counter):
        """[(d * v, variable)] of a block whose first variable is numbered `first`; drawn once d exists
        (waited for through an Identity: ARCHITECTURE.md, "Control edges stop fusion")."""
        with tf.control_dependencies([tf.identity(derivative, name="ready")]):
            return [(derivative * self.tangent(first + i, v, counter), v) for i, v in enumerate(block.variables)]

    def _forward(self, blocks, features, labels, loss_fn):
        """(loss, logits, d = grad L . v, the counter read): one forward pass with tangents."""
        self.ensure_built(blocks, features)
        tangents.check_layers(self.name, blocks)
        tangents.check_loss(self.name, loss_fn)
        counter = self.counter.value()
        x, dx, key = features, None, 0
        with scope("forward"):
            for block in blocks:
                with tf.name_scope(block.name):
                    for layer in block.layers:
                        vs = []
                        if layer.variables:
                            # The draw waits for the layer's input, so it happens when the layer runs.
                            with tf.control_dependencies([tf.identity(x, name="ready")]), tf.name_scope("tangent"):
                                vs = [self.tangent(key + i, v, counter) for i, v in enumerate(layer.variables)]
                        key += len(vs)
                        x, dx = tangents.layer_with_tangent(layer, x, dx, vs)
        with scope("loss"):
            loss = loss_fn(x, labels)
            derivative = tangents.loss_tangent(loss_fn.__name__, x, dx, labels)
        return loss, x, derivative, counter
