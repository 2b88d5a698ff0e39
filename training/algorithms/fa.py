"""Feedback alignment (Lillicrap et al. 2016): the error flows back through fixed random B_l.

Every weight layer's backward pass uses a matrix of its kernel's shape in place of the kernel
(layers.base.WeightLayer.backward_kernel), so dense and convolutional layers, and the layers
inside residual blocks, are handled alike. Weight updates are the usual local ones.

The backward pass goes block by block, last first, and applies each block's update as soon
as its gradients exist, before the error moves on (Algorithm.backward_in_order): FA's backward
never reads W, so nothing waits for the other blocks, and a block's weight gradients are freed
before the next block's exist. Left to the executor's order, the same graph peaked anywhere
between 0.9 and 1.04 times BP's peak from one run to the next (16-block MLP).
"""
import contextlib
import functools

import numpy as np
import tensorflow as tf

from layers import ResidualLayer, WeightLayer
from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks
from training.feedback import FA_KEY_OFFSET


def weight_layers(blocks):
    """Every layer with a kernel, those inside residual layers included, in order."""
    layers = []
    for block in blocks:
        for layer in block.layers:
            if isinstance(layer, ResidualLayer):
                layers += layer.kernels
            elif isinstance(layer, WeightLayer):
                layers.append(layer)
    return layers


class FA(Algorithm):
    name = "FA"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        self._attach_feedback(blocks)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        _, _, updates = self.backward_in_order(blocks, [features] + outputs, error, make_optimizer)
        return Step(train_op=tf.group(updates + state_updates, name="train_op"), loss=loss, logits=outputs[-1])

    def update_directions(self, blocks, features, labels, loss_fn):
        self.ensure_built(blocks, features)
        self._attach_feedback(blocks)
        logits = forward_blocks(blocks, features, training=True)[-1]
        loss = loss_fn(logits, labels)
        variables = [v for block in blocks for v in block.variables]
        # One backward pass for all blocks (the step's order does not matter here).
        gradients = iter(tf.gradients(loss, variables))
        return [[(next(gradients), v) for v in block.variables] for block in blocks]

    def true_loss(self, blocks, features, labels, loss_fn):
        with _plain_kernels(weight_layers(blocks)):
            return super().true_loss(blocks, features, labels, loss_fn)

    def _attach_feedback(self, blocks):
        for key, layer in enumerate(weight_layers(blocks)):
            shape = layer.kernel.shape.as_list()
            fan_in, fan_out = int(np.prod(shape[:-1])), int(np.prod(shape[:-2])) * shape[-1]
            layer.backward_kernel = functools.partial(self.feedback.matrix, FA_KEY_OFFSET + key, shape, fan_in, fan_out)


@contextlib.contextmanager
def _plain_kernels(layers):
    """Differentiate through the real kernels (BP's gradient) while inside the block."""
    kernels = [layer.backward_kernel for layer in layers]
    for layer in layers:
        layer.backward_kernel = None
    try:
        yield
    finally:
        for layer, kernel in zip(layers, kernels):
            layer.backward_kernel = kernel
