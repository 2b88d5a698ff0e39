"""Memory-efficient DFA: DFA's updates with at most one block's activations alive at a time.

A first forward pass keeps nothing and yields the output error e. Then the forward pass is
recomputed block by block: the block's output with its *old* weights, its update from e, the
update applied, and the block's input let go. Control dependencies impose that order.

Two traps (ARCHITECTURE.md, "Grappler merges recomputations"): Grappler's common-subexpression
elimination would merge the recomputation with the first pass (then everything is stored), so
each block's recomputation starts from an identity under a control dependency, which makes it a
distinct op; and a block's update must wait for its recomputed output, or the next block could
see new weights.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step
from training.algorithms.dfa import DFA
from training.blocks import forward_blocks
from training.gradients import ordered_gradients


class DFAMEM(Algorithm):
    name = "DFAMEM"
    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        logits = forward_blocks(blocks, features, training=True)[-1]
        loss, error = self.loss_and_error(loss_fn, logits, labels)
        # Batch-norm averages move once a step: with the first pass's statistics.
        state_updates = [op for block in blocks for op in block.pop_updates()]

        after, x, update_ops = [error], features, []
        for block in blocks:
            with tf.name_scope(f"recompute/{block.name}"):
                with tf.control_dependencies(after):
                    x = tf.identity(x, name="block_input")
                    # The projection depends on e alone: without the wait every block's
                    # projected error would be computed (and held) as soon as e exists.
                    with tf.name_scope("feedback"):
                        delta = error if block is blocks[-1] else self.project(error, block)
                with tf.name_scope("forward"):
                    output = block.forward(x, training=True)
                block.pop_updates()
                last = block is blocks[-1]
                with tf.name_scope("backward"):
                    gradients = ordered_gradients(output, block.variables, grad_ys=delta,
                                             gate_gradients=self.gate_gradients)
                pairs = list(zip(gradients, block.variables))
                update = self.apply(make_optimizer(), pairs, dependencies=[output] + (state_updates if last else []))
            update_ops.append(update)
            after, x = [update], output
        return Step(train_op=tf.group(update_ops, name="train_op"), loss=loss, logits=logits)

    def update_directions(self, blocks, features, labels, loss_fn):
        # The recomputed forward pass uses each block's old weights: the updates are DFA's.
        return DFA(self.config, self.feedback).update_directions(blocks, features, labels, loss_fn)
