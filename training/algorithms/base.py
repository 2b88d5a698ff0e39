"""The Algorithm seam: build one training step from blocks, a batch, a loss and an optimizer.

Algorithms differ only in how they *compute* updates ((update, variable) pairs) and in which
tensors they keep alive; optimizers *apply* the updates. `make_optimizer()` returns a new
optimizer: algorithms that apply updates block by block (DFAMEM, DRTP) take one per block,
because Adam advances its bias correction on every `apply_gradients` call.

Name scopes matter: the memory tracer classifies ops by them
(input/, forward/, loss/, backward/, feedback/, update/, recompute/block_i/...).
"""
from dataclasses import dataclass, field

import tensorflow as tf

from training import feedback as feedback_module
from training.algorithms.alignment import block_alignment
from training.blocks import build_blocks


@dataclass
class Step:
    train_op: tf.Operation
    loss: tf.Tensor
    logits: tf.Tensor
    #: Extra tensors worth logging (alignment angles), by name.
    stats: dict = field(default_factory=dict)


class Algorithm:
    name = None

    def __init__(self, config, feedback=None):
        self.config = config
        self.gather_stats = bool(getattr(config, "gather_stats", False))
        self.feedback = feedback or (feedback_module.from_config(config) if config is not None
                                     else feedback_module.Feedback(seed=0))

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        """Return a Step whose train_op computes and applies one update."""
        raise NotImplementedError

    # -- helpers shared by the algorithms ------------------------------------------------
    @staticmethod
    def ensure_built(blocks, features):
        if not all(block.built for block in blocks):
            build_blocks(blocks, features.shape.as_list()[1:])

    @staticmethod
    def loss_and_error(loss_fn, logits, labels):
        """The loss and e = d loss / d output, the error that DFA projects."""
        with scope("loss"):
            loss = loss_fn(logits, labels)
        with scope("backward"):
            error = tf.gradients(loss, logits)[0]
        return loss, error

    @staticmethod
    def apply_after_all(optimizer, pairs, state_updates=()):
        """Apply every update only once all are computed, as BP with an optimizer step does.

        Without the wait, TensorFlow may update a weight that the backward pass still reads;
        it then copies the variable, and the copies (never freed within the step) blur the
        memory trace.
        """
        return Algorithm.apply(optimizer, pairs, list(state_updates) + [update for update, _ in pairs])

    @staticmethod
    def apply_when_ready(optimizer, pairs, state_updates=(), stats=None):
        """Apply each update as soon as it exists: for algorithms whose backward pass never reads
        the weights it updates (FA reads B, DFA reads nothing), every weight read happens in the
        forward pass, before the loss, so no variable is copied. The weight gradients are then
        freed one by one instead of all being held until the last one exists (BP's way).

        With statistics (alignment) the stats read the weights too: then wait for everything.
        """
        if stats:
            return Algorithm.apply_after_all(optimizer, pairs, list(state_updates) + list(stats.values()))
        return tf.group(Algorithm.apply(optimizer, pairs), *state_updates)

    @staticmethod
    def apply(optimizer, pairs, dependencies=()):
        """Apply (update, variable) pairs after `dependencies` (e.g. batch-norm averages)."""
        with scope("update"), tf.control_dependencies(list(dependencies)):
            return optimizer.apply_gradients(pairs)

    def alignment_stats(self, blocks, loss, pairs_by_block):
        """For algorithms whose forward pass is plain: the loss's gradients are BP's."""
        return block_alignment(blocks, loss, pairs_by_block) if self.gather_stats else {}

    def block_matrix(self, block, num_classes):
        """DFA's fixed matrix for a block: (classes, size of the block's output per example)."""
        size = _size(block.layers[-1].output_shape)
        return self.feedback.matrix(block.index, [num_classes, size], num_classes, size)

    def project(self, signal, block):
        """signal (batch, classes) projected to the block output's full shape."""
        matrix = self.block_matrix(block, signal.shape[-1])
        return tf.reshape(tf.matmul(signal, matrix), [-1, *block.layers[-1].output_shape[1:]])


def scope(name):
    """The name scope `name` under the current one, re-entered if it exists.

    tf.name_scope("backward") a second time opens backward_1/, which the memory tracer does
    not recognise as backward/; a name ending in '/' re-enters the scope instead.
    """
    current = tf.compat.v1.get_default_graph().get_name_scope()
    return tf.name_scope(f"{current}/{name}/" if current else f"{name}/")


def _size(shape):
    size = 1
    for dim in shape[1:]:
        size *= dim
    return size
