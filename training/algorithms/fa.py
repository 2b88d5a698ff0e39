"""Feedback alignment (Lillicrap et al. 2016): the error flows back through fixed random B_l.

Every weight layer's backward pass uses a matrix of its kernel's shape in place of the kernel
(layers.base.WeightLayer.backward_kernel), so dense and convolutional layers, and the layers
inside residual blocks, are handled alike. Weight updates are the usual local ones.
"""
import functools

import numpy as np
import tensorflow as tf

from layers import ResidualLayer, WeightLayer
from training.algorithms.alignment import block_alignment
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
        layers = weight_layers(blocks)
        for key, layer in enumerate(layers):
            shape = layer.kernel.shape.as_list()
            fan_in, fan_out = int(np.prod(shape[:-1])), int(np.prod(shape[:-2])) * shape[-1]
            layer.backward_kernel = functools.partial(self.feedback.matrix, FA_KEY_OFFSET + key, shape, fan_in, fan_out)
        logits = forward_blocks(blocks, features, training=True)[-1]
        with tf.name_scope("loss"):
            loss = loss_fn(logits, labels)
        variables = [v for block in blocks for v in block.variables]
        with tf.name_scope("backward"):
            # One backward pass for all blocks: a tf.gradients call per block would build (and
            # run) the backward pass from the loss down to that block again for every block.
            gradients = iter(tf.gradients(loss, variables))
        pairs_by_block = [[(next(gradients), v) for v in block.variables] for block in blocks]
        state_updates = [op for block in blocks for op in block.pop_updates()]
        stats = self._alignment(blocks, layers, features, labels, loss_fn, pairs_by_block) if self.gather_stats else {}
        # The backward pass reads B, never W: each update can be applied as soon as it exists.
        train_op = self.apply_when_ready(make_optimizer(), [p for pairs in pairs_by_block for p in pairs],
                                         state_updates, stats)
        return Step(train_op=train_op, loss=loss, logits=logits, stats=stats)

    @staticmethod
    def _alignment(blocks, layers, features, labels, loss_fn, pairs_by_block):
        """Angles to the true gradient, taken on a plain forward pass (no feedback kernels)."""
        kernels = [layer.backward_kernel for layer in layers]
        for layer in layers:
            layer.backward_kernel = None
        try:
            true_logits = forward_blocks(blocks, features, training=True, scope="alignment_forward")[-1]
            true_loss = loss_fn(true_logits, labels)
        finally:
            for layer, kernel in zip(layers, kernels):
                layer.backward_kernel = kernel
        for block in blocks:
            block.pop_updates()  # this extra pass must not move the batch-norm averages
        return block_alignment(blocks, true_loss, pairs_by_block)
