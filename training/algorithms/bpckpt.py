"""Checkpointed backpropagation (Chen et al. 2016): BP's gradients, fewer activations alive.

The step follows a plan (planning/checkpoint_plan.py): `checkpoint_plan` ('(2|2)|4|4'), else
uniform segments of `segment_size` blocks (default round(sqrt(n))). A plan is a tree of
segments; differentiating a segment, given a forward pass through it, goes:

- a leaf: block by block, last first, on that pass's activations;
- a split segment: the pass kept only each child's input (the checkpoints; every other
  activation was freed as soon as the next block had read it). Its last child is
  differentiated on the pass itself (its activations are the last ones computed, so keeping
  them costs one child, like any recomputation); every earlier child, last first, is
  recomputed from its checkpoint under <scope>recompute/segment_i/forward and differentiated
  (recursively, with its own plan) under <scope>recompute/segment_i/, with the gradient that
  arrived at its output; the gradient at its input goes on to the previous child.

The first pass (forward/) runs through the whole network, so the root's children are the
uniform plan's segments, recomputed under recompute/segment_i/; a child that is itself split
stores its own checkpoints while it is recomputed, and its children are recomputed under
recompute/segment_i/recompute/segment_j/ (nested recomputation). Every recomputed op's name
starts with recompute/ and names its pass uniquely, which is what the tracer's recomputation
costs read (tracing/profile.py).

Each block's update is applied as soon as its weight gradients and the gradient at its input
exist (nothing reads its weights after that), so at most one leaf's activations and about
one block's weight gradients are alive besides the checkpoints. With SGD or momentum the new
weights equal BP's; each block has its own optimizer (Adam's bias correction advances per
apply_gradients call, as for DFAMEM).

Grappler's common-subexpression elimination would merge a recomputation with the pass it
repeats, and then nothing is recomputed and everything is stored (ARCHITECTURE.md,
"Grappler merges recomputations"). So each recomputation starts from an identity of the
checkpoint under a control dependency on the later child's last update, which makes it
distinct and orders it after that child's backward.
Batch-norm moving averages move once per step, with the first pass's statistics.
"""
import tensorflow as tf

from planning.checkpoint_plan import plan_for
from training.algorithms.base import Algorithm, Step
from training.blocks import forward_blocks


class BPCKPT(Algorithm):
    name = "BPCKPT"
    approximates_bp = False

    def plan(self, num_blocks):
        """The planning.checkpoint_plan.Segment this config asks for."""
        setting = (lambda key: getattr(self.config, key, None)) if self.config is not None else (lambda key: None)
        return plan_for(num_blocks, setting("checkpoint_plan"), setting("segment_size"))

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        outputs = forward_blocks(blocks, features, training=True)
        logits = outputs[-1]
        loss, gradient = self.loss_and_error(loss_fn, logits, labels)
        state_updates = [op for block in blocks for op in block.pop_updates()]
        _, update_ops = self.differentiate(self.plan(len(blocks)), blocks, features, dict(enumerate(outputs)),
                                           gradient, make_optimizer, need_input_gradient=False)
        return Step(train_op=tf.group(update_ops + state_updates, name="train_op"), loss=loss, logits=logits)

    def differentiate(self, segment, blocks, segment_input, outputs, gradient, make_optimizer, need_input_gradient):
        """Backpropagate `gradient` (at the segment's output) through the segment, applying each block's update.

        outputs: {block index: output} of the forward pass that ran through the segment from
        `segment_input`. Returns (the gradient at segment_input or None, [update ops] in the order applied).
        """
        if segment.is_leaf:
            span = range(segment.start, segment.stop)
            gradient, _, updates = self.backward_in_order(
                blocks[segment.start:segment.stop], [segment_input] + [outputs[i] for i in span], gradient,
                make_optimizer, need_input_gradient=need_input_gradient)
            return gradient, updates
        children = segment.children
        checkpoints = [segment_input] + [outputs[child.start - 1] for child in children[1:]]
        gradient, updates = self.differentiate(children[-1], blocks, checkpoints[-1], outputs, gradient,
                                               make_optimizer, need_input_gradient=True)
        applied = list(updates)
        for index in range(len(children) - 2, -1, -1):
            child = children[index]
            with tf.name_scope(f"recompute/segment_{index}"):
                # Distinct from the pass it repeats (CSE) and only after the later child is done.
                with tf.control_dependencies([applied[-1]]):
                    x = tf.identity(checkpoints[index], name="segment_input")
                recomputed = forward_blocks(blocks[child.start:child.stop], x, training=True, scope="forward")
                for block in blocks[child.start:child.stop]:
                    block.pop_updates()  # the averages already moved with the first pass
                gradient, updates = self.differentiate(
                    child, blocks, x, dict(zip(range(child.start, child.stop), recomputed)), gradient,
                    make_optimizer, need_input_gradient=index > 0 or need_input_gradient)
            applied += updates
        return gradient, applied
