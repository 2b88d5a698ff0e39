"""PEPITA (Dellaferrera & Kreiman, ICML 2022, Algorithm 1): two forward passes, no backward pass.

    standard pass    h_0 = x,            h_l = f_l(W_l h_{l-1}),  e = h_L - target
    modulated pass   h'_0 = x - F e,     h'_l = f_l(W_l h'_{l-1})
    updates          dW_l = (h_l - h'_l) h'_{l-1}^T  (l < L),   dW_L = e h'_{L-1}^T,   W_l -= lr dW_l

F is fixed and random, (classes, input size), uniform in +-0.05 sqrt(6 / input size) as in the
paper's code (`feedback_scale` multiplies it). The paper's code adds F e; F's distribution is
symmetric, so x - F e is the same rule with F negated. Every layer's update reads the modulated
pass's input (h'_{l-1}, the first layer x - F e) and the last layer the standard pass's error e,
as Algorithm 1 writes (the authors' PyTorch code takes the modulated pass's error there instead). e is the per-example error, batch x d loss / d logits: softmax(logits) -
target for softmax cross-entropy, the paper's loss. Updates are averaged over the batch, as the
paper's code divides by the batch size.

Extension (the paper's networks have no biases): a bias is a weight on a constant 1, so
db_l = mean over the batch of (h_l - h'_l), and db_L of e. The paper defines the rule for dense
layers followed by an element-wise activation; any other layer (convolution, pooling, batch norm,
residual, attention) is refused with one line (its convolutional variant averages over positions
in a way of its own, not implemented here).

No gradient is taken through the network: e is the loss's derivative at the logits (under loss/),
the modulated pass is under modulated/ and the updates under update/, so a traced step has no
backward-phase bytes. Block l's modulated pass waits for block l-1's update: one block's update is
alive at a time, and the standard pass's h_l is freed as soon as block l is updated.
"""
import numpy as np
import tensorflow as tf

from definitions.errors import ConfigError
from training.algorithms.base import Algorithm, Step, scope
from training.blocks import forward_blocks

#: The paper's scale of F (its code's Bstd) relative to a Glorot-uniform range over the input size.
F_GAIN = 0.05
#: The feedback key of F (PEPITA has only this one matrix).
F_KEY = 0


class PEPITA(Algorithm):
    name = "PEPITA"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        outputs, loss, _, updates = self._updates(blocks, features, labels, loss_fn, make_optimizer)
        return Step(train_op=tf.group(updates, name="train_op"), loss=loss, logits=outputs[-1])

    def update_directions(self, blocks, features, labels, loss_fn):
        return self._updates(blocks, features, labels, loss_fn)[2]

    def input_matrix(self, features, classes):
        """F: (classes, input size), the same for every step (stored, or regenerated from the seed)."""
        size = int(np.prod(features.shape.as_list()[1:]))
        # Feedback's range is scale * sqrt(6 / (fan_in + fan_out)): this fan gives 0.05 * sqrt(6 / size).
        return self.feedback.matrix(F_KEY, [classes, size], size / F_GAIN ** 2, 0)

    def _updates(self, blocks, features, labels, loss_fn, make_optimizer=None):
        """(standard outputs, loss, [[(update, variable)] per block], [update ops]); with
        make_optimizer each block's update is applied (one optimizer per block), else none is."""
        self.ensure_built(blocks, features)
        self.check_defined(blocks)
        if labels.shape.rank != 2:
            raise ConfigError("PEPITA modulates the input with one error per example; a per-position output "
                              f"(labels of shape {labels.shape.as_list()}) is not defined")
        outputs = forward_blocks(blocks, features, training=True)
        with scope("loss"):
            loss = loss_fn(outputs[-1], labels)
            batch = tf.cast(tf.shape(features)[0], tf.float32)
            # d loss / d logits is e / batch for a loss averaged over the batch.
            error = tf.gradients(loss, outputs[-1])[0] * batch
        with scope("modulated"), tf.name_scope("input"):
            flat = tf.reshape(features, [-1, int(np.prod(features.shape.as_list()[1:]))])
            projected = tf.matmul(error, self.input_matrix(features, labels.shape[-1]))
            x = tf.reshape(flat - projected, tf.shape(features), name="modulated_input")
        pairs_by_block, updates = [], []
        for position, block in enumerate(blocks):
            with scope("modulated"), tf.name_scope(block.name):
                if updates:
                    # One block at a time: this pass starts once the previous block is updated.
                    with tf.control_dependencies(updates[-1:]):
                        x = tf.identity(x, name="block_input")
                modulated = block.forward(x, training=True)
            last = position == len(blocks) - 1
            with scope("update"), tf.name_scope(block.name):
                difference = error if last else outputs[position] - modulated
                pairs = _outer_product_updates(block.layers[0], x, difference, batch)
            pairs_by_block.append(pairs)
            if make_optimizer is not None:
                updates.append(self.apply(make_optimizer(), pairs))
            x = modulated
        for block in blocks:
            block.pop_updates()  # no layer PEPITA takes has state; nothing to apply twice
        return outputs, loss, pairs_by_block, updates


def _outer_product_updates(layer, layer_input, difference, batch):
    """[(dW, W), (db, b)]: difference^T times the layer's input, averaged over the batch.

    The difference is divided by the batch before the product: a (batch, units) division instead of
    a second kernel-sized buffer."""
    scaled = difference / batch
    pairs = [(tf.matmul(layer.prepare_input(layer_input), scaled, transpose_a=True), layer.kernel)]
    if layer.bias is not None:
        pairs.append((tf.reduce_sum(scaled, axis=0), layer.bias))
    return pairs
