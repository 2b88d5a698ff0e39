"""Checkpointed backpropagation (Chen et al. 2016): BP's gradients, fewer activations alive.

The blocks are cut into segments of `segment_size` blocks (default round(sqrt(n))). The forward
pass keeps only each segment's input (the checkpoints); every other activation is freed as soon
as the next block has read it. The backward pass goes segment by segment, last first:

- the last segment is differentiated on the forward pass itself (its activations are the last
  ones computed, so keeping them costs one segment, like any other segment's recomputation);
- every earlier segment is recomputed from its checkpoint under recompute/segment_i/forward,
  then differentiated block by block under recompute/segment_i/backward with the gradient
  that arrived at its output; the gradient at its input goes on to the previous segment.

Each block's update is applied as soon as its weight gradients and the gradient at its input
exist (nothing reads its weights after that), so at most one segment's activations and about
one block's weight gradients are alive besides the checkpoints. With SGD or momentum the new
weights equal BP's; each block has its own optimizer (Adam's bias correction advances per
apply_gradients call, as for DFAMEM).

Grappler's common-subexpression elimination would merge a recomputation with the original
forward ops, and then nothing is recomputed and everything is stored (ARCHITECTURE.md,
"Grappler merges recomputations"). So each recomputation starts from an identity of the
checkpoint under a control dependency on the later segment's last update, which makes it
distinct and orders it after that segment's backward.
Batch-norm moving averages move once per step, with the first pass's statistics.
"""
import tensorflow as tf

from training.algorithms.base import Algorithm, Step, scope
from planning.segments import default_segment_size, segment_bounds
from training.blocks import forward_blocks


class BPCKPT(Algorithm):
    name = "BPCKPT"
    approximates_bp = False

    def segment_size(self, num_blocks):
        size = getattr(self.config, "segment_size", None) if self.config is not None else None
        return size or default_segment_size(num_blocks)

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        logits = outputs[-1]
        loss, gradient = self.loss_and_error(loss_fn, logits, labels)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        bounds = segment_bounds(len(blocks), self.segment_size(len(blocks)))
        checkpoints = [features] + [outputs[start - 1] for start, _ in bounds[1:]]
        last_start, _ = bounds[-1]
        # The last segment: its forward activations are still alive; differentiate them.
        gradient, _, updates = self.backward_in_order(blocks[last_start:], [checkpoints[-1]] + outputs[last_start:],
                                           gradient, make_optimizer, need_input_gradient=len(bounds) > 1)
        update_ops = list(updates)
        for index in range(len(bounds) - 2, -1, -1):
            start, stop = bounds[index]
            with tf.name_scope(f"recompute/segment_{index}"):
                # Distinct from the first pass (CSE) and only after the later segment is done.
                with tf.control_dependencies([updates[-1]]):
                    x = tf.identity(checkpoints[index], name="segment_input")
                recomputed = forward_blocks(blocks[start:stop], x, training=True, scope="forward")
                for block in blocks[start:stop]:
                    block.pop_updates()  # the averages already moved with the first pass
                gradient, _, updates = self.backward_in_order(blocks[start:stop], [x] + recomputed, gradient,
                                                   make_optimizer, need_input_gradient=index > 0)
            update_ops += updates
        return Step(train_op=tf.group(update_ops + state_updates, name="train_op"), loss=loss, logits=logits)
