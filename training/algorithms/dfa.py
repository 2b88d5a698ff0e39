"""Direct feedback alignment (Nøkland 2016).

The output error e = d loss / d output goes straight to every block's output through a fixed
random matrix; inside a block TensorFlow differentiates locally (activation, pooling, batch
norm), so no error travels through the other blocks. The last block gets the true error.

Speed (benchmarks/step_time): each hidden block gets its own small projection e @ B_i. One
matmul against the concatenated matrices was slower and twice as large: it concatenates the
matrices every step, and splitting its (batch, sum of sizes) result along the feature axis
copies every projected error once more. Nothing in DFA's backward pass reads the weights, so
each block's update is applied as soon as it exists, before the next block's backward starts
(with the config key update_every = k, k blocks' updates together once the last has its gradients:
faster on the Xeon's oneDNN, not on the EPYC's; one more block's weight gradients alive per extra
block; benchmarks/update_every.py).
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step, scope
from training.blocks import forward_blocks
from training.gradients import ordered_gradients


class DFA(Algorithm):
    name = "DFA"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        outputs, loss, _, updates = self._updates(blocks, features, labels, loss_fn, make_optimizer)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        return Step(train_op=tf.group(updates + state_updates, name="train_op"), loss=loss, logits=outputs[-1])

    def update_directions(self, blocks, features, labels, loss_fn):
        return self._updates(blocks, features, labels, loss_fn)[2]

    def _updates(self, blocks, features, labels, loss_fn, make_optimizer=None):
        """(block outputs, loss, [[(update, variable)] per block], [update ops]) of DFA on this batch;
        with make_optimizer each block's update is applied (its own optimizer, ARCHITECTURE.md,
        "One optimizer per block"), else nothing is.

        The blocks are independent, but left to the executor they ran two at a time in an
        order that changed from step to step, and so did the traced peak (-15% to +72% around
        the model's on small networks). So they go in a fixed order, the output block first
        (its error exists first), then the hidden blocks last first: each block's projection
        and backward wait for the previous block's update, so one block's weight gradients are
        alive at a time (ARCHITECTURE.md, "Backward in a fixed order")."""
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        pairs_by_block, updates, done, pending = [None] * len(blocks), [], [], []
        every = self.update_every()
        for position in range(len(blocks) - 1, -1, -1):
            block, output = blocks[position], outputs[position]
            with tf.control_dependencies(done):
                if block is blocks[-1]:
                    with scope("backward"), tf.name_scope(block.name):
                        delta = tf.identity(error, name="output_error") if done else error
                else:
                    with scope("feedback"):
                        delta = self.project(error, block)
            with scope("backward"), tf.name_scope(block.name):
                gradients = ordered_gradients(output, block.variables, grad_ys=delta,
                                         gate_gradients=self.gate_gradients)
            pairs_by_block[position] = list(zip(gradients, block.variables))
            done = list(gradients)
            if make_optimizer is not None:
                pending.append(pairs_by_block[position])
                if len(pending) == every or position == 0:
                    pairs = [pair for block_pairs in pending for pair in block_pairs]
                    # update_every blocks together: each update waits for all their gradients
                    # (alone, each variable's update runs as soon as its own gradient exists).
                    updates.append(self.apply(make_optimizer(), pairs, [g for g, _ in pairs] if every > 1 else ()))
                    pending, done = [], updates[-1:]
        return outputs, loss, pairs_by_block, updates
