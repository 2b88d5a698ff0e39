"""Direct feedback alignment (Nøkland 2016).

The output error e = d loss / d output goes straight to every block's output through a fixed
random matrix; inside a block TensorFlow differentiates locally (activation, pooling, batch
norm), so no error travels through the other blocks. The last block gets the true error.

Speed (benchmarks/step_time): each hidden block gets its own small projection e @ B_i. One
matmul against the concatenated matrices was slower and twice as large: it concatenates the
matrices every step, and splitting its (batch, sum of sizes) result along the feature axis
copies every projected error once more. Nothing in DFA's backward pass reads the weights, so
each block's update is applied as soon as it exists (see Algorithm.apply_when_ready) and the
blocks' updates run independently.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step, scope
from training.blocks import forward_blocks


class DFA(Algorithm):
    name = "DFA"

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        outputs, loss, pairs_by_block = self._updates(blocks, features, labels, loss_fn)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        train_op = self.apply_when_ready(make_optimizer(), [p for pairs in pairs_by_block for p in pairs],
                                         state_updates)
        return Step(train_op=train_op, loss=loss, logits=outputs[-1])

    def update_directions(self, blocks, features, labels, loss_fn):
        return self._updates(blocks, features, labels, loss_fn)[2]

    def _updates(self, blocks, features, labels, loss_fn):
        """(block outputs, loss, [[(update, variable)] per block]) of DFA on this batch."""
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        loss, error = self.loss_and_error(loss_fn, outputs[-1], labels)
        deltas = self.project_all(error, blocks[:-1]) + [error]
        pairs_by_block = []
        for block, output, delta in zip(blocks, outputs, deltas):
            with scope("backward"), tf.name_scope(block.name):
                gradients = tf.gradients(output, block.variables, grad_ys=delta)
            pairs_by_block.append(list(zip(gradients, block.variables)))
        return outputs, loss, pairs_by_block

    def project_all(self, error, blocks):
        """e projected to each block's output shape (one small matmul per block)."""
        with scope("feedback"):
            return [self.project(error, block) for block in blocks]
