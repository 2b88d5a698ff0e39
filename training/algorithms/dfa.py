"""Direct feedback alignment (Nøkland 2016).

The output error e = d loss / d output goes straight to every block's output through a fixed
random matrix; inside a block TensorFlow differentiates locally (activation, pooling, batch
norm), so no error travels through the other blocks. The last block gets the true error.
All hidden blocks' projections are one matmul against the concatenated matrices.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks


class DFA(Algorithm):
    name = "DFA"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        deltas = self.project_all(error, blocks[:-1]) + [error]
        pairs_by_block = []
        with tf.name_scope("backward"):
            for block, output, delta in zip(blocks, outputs, deltas):
                with tf.name_scope(block.name):
                    gradients = tf.gradients(output, block.variables, grad_ys=delta)
                pairs_by_block.append(list(zip(gradients, block.variables)))
        state_updates = [op for block in blocks for op in block.pop_updates()]
        stats = self.alignment_stats(blocks, loss, pairs_by_block)
        train_op = self.apply_after_all(make_optimizer(), [p for pairs in pairs_by_block for p in pairs], state_updates)
        return Step(train_op=train_op, loss=loss, logits=outputs[-1], stats=stats)

    def project_all(self, error, blocks):
        """e projected to each block's output shape, as one matmul for all blocks."""
        if not blocks:
            return []
        with tf.name_scope("feedback"):
            classes = error.shape[-1]
            matrices = [self.block_matrix(block, classes) for block in blocks]
            projected = tf.matmul(error, tf.concat(matrices, axis=1) if len(matrices) > 1 else matrices[0])
            pieces = tf.split(projected, [m.shape[1] for m in matrices], axis=1) if len(matrices) > 1 else [projected]
            return [tf.reshape(piece, [-1, *block.layers[-1].output_shape[1:]])
                    for piece, block in zip(pieces, blocks)]
