"""Backpropagation: the reference every other algorithm is compared with.

The backward pass goes block by block, last first, each block waiting for the weight
gradients of the block after it (Algorithm.backward_in_order): the gradients are tf.gradients'
own, but their order is fixed, so the traced peak is the same from run to run (left to the
executor, a 3-block MLP's peak varied by 9% between runs). Every update is applied once all
gradients exist: the backward pass reads the weights, and updating one early would make
TensorFlow copy it.
"""
from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks


class BP(Algorithm):
    name = "BP"
    approximates_bp = False

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        _, pairs_by_block, _ = self.backward_in_order(blocks, [features] + outputs, error)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        pairs = [pair for pairs in reversed(pairs_by_block) for pair in pairs]
        train_op = self.apply_after_all(make_optimizer(), pairs, state_updates)
        return Step(train_op=train_op, loss=loss, logits=outputs[-1])
