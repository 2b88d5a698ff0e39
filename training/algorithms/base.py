"""The Algorithm seam: build one training step from blocks, a batch, a loss and an optimizer.

Algorithms differ only in how they *compute* updates ((update, variable) pairs) and in which
tensors they keep alive; optimizers *apply* the updates. `make_optimizer()` returns a new
optimizer: algorithms that apply updates block by block (FA, DFAMEM, DRTP, BPCKPT) take one
per block, because Adam advances its bias correction on every `apply_gradients` call.

Statistics (alignment angles) are a separate subgraph under statistics/, built by
`statistics()`: nothing in the training step depends on it, so a step costs the same time and
memory with `gather_stats` on or off; the trainer runs it on its own, fed the step's batch
(ARCHITECTURE.md, "Statistics beside the step").

Name scopes matter: the memory tracer classifies ops by them
(input/, forward/, loss/, backward/, feedback/, update/, recompute/block_i/..., modulated/,
auxiliary/).
"""
from dataclasses import dataclass

import tensorflow as tf

from definitions.errors import ConfigError
from layers.checks import format_shape
from planning.defined import not_defined
from training import feedback as feedback_module
from training.algorithms.alignment import block_alignment
from training.blocks import build_blocks, forward_blocks
from training.gradients import ordered_gradients


@dataclass
class Step:
    train_op: tf.Operation
    loss: tf.Tensor
    logits: tf.Tensor


class Algorithm:
    name = None
    #: False for the algorithms whose updates are BP's gradients: their alignment is 0 by definition.
    approximates_bp = True
    #: tf.gradients' gate_gradients for every algorithm: each op's gradients exist before any is
    #: used. Ungated, the executor chose which of an op's gradients (a residual block's branches,
    #: batch norm's, two filter gradients with their workspaces) went on first, from its own timing
    #: of the ops: the traced peak of DFA on resnet_18 differed by 9% from one process to the next.
    #: Gated, the order is the graph's (ARCHITECTURE.md, "One op at a time"). Nothing runs beside
    #: anything in a run's session, so the gates cost no overlap.
    gate_gradients = True
    #: backward_in_order with updates: the next block's backward waits for this block's update
    #: (one op at a time, a fixed order), or only for its gradients, leaving the update free to run
    #: beside it on an inter-op pool (benchmarks/inter_op.py measures that what-if).
    next_block_waits_for_update = True

    def __init__(self, config, feedback=None):
        self.config = config
        self.feedback = feedback or (feedback_module.from_config(config) if config is not None
                                     else feedback_module.Feedback(seed=0))

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        """Return a Step whose train_op computes and applies one update."""
        raise NotImplementedError

    def statistics(self, blocks, features, labels, loss_fn):
        """{'alignment/block_i': degrees} between each block's update on this batch and BP's gradient.

        Built after `build`, beside the step: its own forward passes, no update applied, and
        nothing of the step waits for it. Empty for algorithms that compute BP's gradient.
        """
        if not self.approximates_bp:
            return {}
        with scope("statistics"):
            directions = self.update_directions(blocks, features, labels, loss_fn)
            true_loss = self.true_loss(blocks, features, labels, loss_fn)
            for block in blocks:
                block.pop_updates()  # these extra passes must not move the batch-norm averages
            return block_alignment(blocks, true_loss, directions)

    def update_directions(self, blocks, features, labels, loss_fn):
        """[[(update, variable), ...] per block]: what the step computes from this batch, unapplied."""
        raise NotImplementedError

    def true_loss(self, blocks, features, labels, loss_fn):
        """The loss on a plain forward pass, whose gradients are BP's."""
        logits = forward_blocks(blocks, features, training=True, scope="true_forward")[-1]
        return loss_fn(logits, labels)

    # -- helpers shared by the algorithms ------------------------------------------------
    @staticmethod
    def ensure_built(blocks, features):
        if not all(block.built for block in blocks):
            build_blocks(blocks, features.shape.as_list()[1:])

    def check_defined(self, blocks):
        """One ConfigError line for a network this rule is not defined on (planning/defined.py)."""
        reason = not_defined(self.name, [(block.name, [str(layer) for layer in block.layers]) for block in blocks])
        if reason:
            raise ConfigError(reason)

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
    def apply_when_ready(optimizer, pairs, state_updates=()):
        """Apply each update as soon as it exists: for algorithms whose backward pass never reads
        the weights it updates (DFA reads nothing), every weight read happens in the forward
        pass, before the loss, so no variable is copied. The weight gradients are then freed
        one by one instead of all being held until the last one exists (BP's way).
        """
        return tf.group(Algorithm.apply(optimizer, pairs), *state_updates)

    def update_every(self):
        """Blocks whose updates are applied together: the config key update_every for FA and DFA
        (their subclasses, the sign-symmetric rules, keep one block at a time), else 1."""
        from definitions.config import UPDATE_GROUP_TYPES
        return self.config.update_every if self.config is not None and self.name in UPDATE_GROUP_TYPES else 1

    def backward_in_order(self, blocks, tensors, gradient, make_optimizer=None, need_input_gradient=False):
        """Backpropagate `gradient` (at tensors[-1]) through `blocks`, last block first.

        tensors: the first block's input followed by each block's output. The next block's
        backward waits for this block's work: otherwise the executor's LIFO queues leave the
        small bias gradients (and the activations they read) waiting until the end of the
        step, and the peak varies from run to run with the executor's order
        (ARCHITECTURE.md, "Backward in a fixed order").

        With make_optimizer, each block's update is applied as soon as its weight gradients and
        its input gradient exist, and the next block waits for that update (FA, BPCKPT: nothing
        reads a block's weights after its backward); with update_every() = k, the updates of k
        consecutive blocks go together once the k-th block's backward is done, the blocks in
        between waiting for the gradients only. Without, the next block waits for this
        block's weight gradients and the caller applies the pairs (BP, all at once).
        Gradients go under <current scope>/backward/block_i/, updates under <current scope>/update/.
        Returns (the gradient at the first block's input or None, [pairs] and [update ops], both last block first).
        """
        pairs_by_block, updates, done, pending = [], [], [], []
        every = self.update_every()
        for position in range(len(blocks) - 1, -1, -1):
            block, block_input, block_output = blocks[position], tensors[position], tensors[position + 1]
            wants_input = position > 0 or need_input_gradient
            with scope("backward"), tf.name_scope(block.name):
                if done:
                    with tf.control_dependencies(done):
                        gradient = tf.identity(gradient, name="output_gradient")
                sources = ([block_input] if wants_input else []) + block.variables
                gradients = ordered_gradients(block_output, sources, grad_ys=gradient,
                                         gate_gradients=self.gate_gradients)
            input_gradient = gradients[0] if wants_input else None
            pairs = list(zip(gradients[1:] if wants_input else gradients, block.variables))
            pairs_by_block.append(pairs)
            done = [g for g, _ in pairs]
            if make_optimizer is not None:
                pending.append((pairs, [input_gradient] if wants_input else []))
                if len(pending) == every or position == 0:
                    group = [pair for block_pairs, _ in pending for pair in block_pairs]
                    # Grouped, each update waits for every gradient of the group too (alone, each
                    # variable's update would run as soon as its own gradient exists).
                    waits = [g for _, waits in pending for g in waits] + ([g for g, _ in group] if every > 1 else [])
                    updates.append(self.apply(make_optimizer(), group, waits))
                    pending = []
                    if self.next_block_waits_for_update:
                        done = updates[-1:]
            gradient = input_gradient
        return gradient, pairs_by_block, updates

    @staticmethod
    def apply(optimizer, pairs, dependencies=()):
        """Apply (update, variable) pairs after `dependencies` (tensors, e.g. a block's output, or
        ops, e.g. batch-norm averages).

        A tensor is waited for through an Identity of it: a control edge out of the op itself
        stops Grappler's remapper from fusing that op with the ops before it, and oneDNN then ran
        DFAMEM's recomputed blocks as MatMul+BiasAdd and a separate Sigmoid where the first pass
        has one fused kernel (ARCHITECTURE.md, "Control edges stop fusion")."""
        waits = [tf.identity(d, name="ready") if isinstance(d, tf.Tensor) else d for d in dependencies]
        with scope("update"), tf.control_dependencies(waits):
            return optimizer.apply_gradients(pairs)

    def block_matrix(self, block, num_classes, positions=0):
        """DFA's fixed matrix for a block: (classes, size of the block's output per example), or per
        position when the signal has `positions` axes of its own (a transformer's (batch, time, ...))."""
        size = _size(block.layers[-1].output_shape[positions:])
        return self.feedback.matrix(block.index, [num_classes, size], num_classes, size)

    def project(self, signal, block):
        """signal (batch, classes) projected to the block output's full shape. A per-position signal
        (batch, time, classes) goes to each position of a (batch, time, ...) output through one
        matrix shared by the positions."""
        output_shape, classes = block.layers[-1].output_shape, signal.shape[-1]
        positions = signal.shape.rank - 2
        if positions:
            if list(output_shape[1:1 + positions]) != signal.shape.as_list()[1:-1]:
                raise ConfigError(f"{self.name}: cannot project an error of shape {format_shape(signal.shape.as_list())} "
                                  f"position by position onto {block.name}'s output of shape {format_shape(output_shape)}")
            signal = tf.reshape(signal, [-1, classes])
        matrix = self.block_matrix(block, classes, positions)
        return tf.reshape(tf.matmul(signal, matrix), [-1, *output_shape[1:]])


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
