"""Direct random target projection (Frenkel et al. 2021).

Like DFA, but hidden blocks receive the projected one-hot target instead of the error: the
surrogate error is -y* (the error's sign pattern for the target class), which is known before
the forward pass. So each block is updated as soon as its output exists, during the single
forward pass: nothing is stored and nothing is recomputed. The last block gets the true error.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step


class DRTP(Algorithm):
    name = "DRTP"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        surrogate = -labels
        x, update_ops, pairs_by_block = features, [], []
        for block in blocks[:-1]:
            with tf.name_scope(f"forward/{block.name}"):
                output = block.forward(x, training=True)
            with tf.name_scope(f"feedback/{block.name}"):
                delta = self.project(surrogate, block)
            with tf.name_scope(f"backward/{block.name}"):
                pairs = list(zip(tf.gradients(output, block.variables, grad_ys=delta), block.variables))
            # The update waits for the output so the next block sees this block's old weights.
            update_ops.append(self.apply(make_optimizer(), pairs, dependencies=[output] + block.pop_updates()))
            pairs_by_block.append(pairs)
            x = output
        last = blocks[-1]
        with tf.name_scope(f"forward/{last.name}"):
            logits = last.forward(x, training=True)
        loss, error = self.loss_and_error(loss_fn, logits, labels)
        with tf.name_scope(f"backward/{last.name}"):
            pairs = list(zip(tf.gradients(logits, last.variables, grad_ys=error), last.variables))
        update_ops.append(self.apply(make_optimizer(), pairs, dependencies=[logits] + last.pop_updates()))
        pairs_by_block.append(pairs)
        stats = self.alignment_stats(blocks, loss, pairs_by_block)
        return Step(train_op=tf.group(update_ops, name="train_op"), loss=loss, logits=logits, stats=stats)
