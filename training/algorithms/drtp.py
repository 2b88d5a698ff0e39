"""Direct random target projection (Frenkel et al. 2021).

Like DFA, but hidden blocks receive the projected one-hot target instead of the error: the
surrogate error is -y* (the error's sign pattern for the target class), which is known before
the forward pass. So each block is updated as soon as its output exists, during the single
forward pass: nothing is stored and nothing is recomputed. The last block gets the true error.

Order: left alone, TensorFlow's executor computes every projection at the start of the step
and runs ahead with the forward pass while the blocks' weight gradients wait to be applied, so
the peak grows with depth. Block i's forward pass and projection therefore wait for the update
of block i - 1 - LAG. LAG = 0: one block at a time, forward, backward, update. LAG = 1 once let
one block's forward pass run beside the previous block's update; a run's session runs one op at
a time (tracing/session_config.py), so nothing runs beside anything any more, and with LAG = 1
which of the two ready passes ran first was the executor's choice: the traced peak of resnet_18
(batch 16) was 42 MiB in some processes and 52 MiB in others.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks
from training.gradients import ordered_gradients

LAG = 0


class DRTP(Algorithm):
    name = "DRTP"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        surrogate = -labels
        x, update_ops = features, []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            wait = update_ops[index - 1 - LAG:index - LAG] if index > LAG else []
            with tf.control_dependencies(wait):
                with tf.name_scope(f"forward/{block.name}"):
                    x = tf.identity(x, name="block_input") if wait else x
                    output = block.forward(x, training=True)
                if not last:
                    with tf.name_scope(f"feedback/{block.name}"):
                        delta = self.project(surrogate, block)
            if last:
                loss, delta = self.loss_and_error(loss_fn, output, labels)
            with tf.name_scope(f"backward/{block.name}"):
                # Each block's backward waits for the previous block's update: one block's weight
                # gradients alive at a time. Unchained, two neighbours' gradients were alive
                # together in some steps and not others (long_fc_5, batch 100: traced peaks
                # 2.2 to 3.4 MiB from one step to the next); the forward passes still overlap.
                if update_ops:
                    with tf.control_dependencies(update_ops[-1:]):
                        delta = tf.identity(delta, name="output_error")
                gradients = ordered_gradients(output, block.variables, grad_ys=delta, gate_gradients=self.gate_gradients)
                pairs = list(zip(gradients, block.variables))
            # The update waits for the output so the next block sees this block's old weights.
            update_ops.append(self.apply(make_optimizer(), pairs, dependencies=[output] + block.pop_updates()))
            x = output
        return Step(train_op=tf.group(update_ops, name="train_op"), loss=loss, logits=output)

    def update_directions(self, blocks, features, labels, loss_fn):
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        _, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        pairs_by_block = []
        for block, output in zip(blocks, outputs):
            delta = error if block is blocks[-1] else self.project(-labels, block)
            pairs_by_block.append(list(zip(tf.gradients(output, block.variables, grad_ys=delta), block.variables)))
        return pairs_by_block
