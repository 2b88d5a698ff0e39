"""Greedy local learning (Belilovsky et al. 2019; decoupled greedy learning, Belilovsky et al. 2020).

Every block j but the last has an auxiliary classifier C_j (planning/auxiliary.py: global average
pooling and a dense layer after a convolutional block, a dense layer after a dense one) and learns
from its own loss alone:

    x_j = f_j(stop_gradient(x_{j-1})),   L_j = loss(C_j(x_j), y),   (W_j, C_j) -= lr d L_j / d (W_j, C_j)

The last block's loss is the network's own (its output is the network's output). No gradient
crosses a block's input. The blocks go in order, one at a time: block j's forward pass, its head,
its loss, its local backward and its update, then block j + 1 (which waits for that update), so
only one block's activations and gradients are alive. The network's output at test time is the
last block's: the heads serve training only. A sequence of one block would be plain BP: refused.

The heads' variables live under model/auxiliary/ with the network's: checkpoints save them and
their optimizer slots, so --resume continues them.
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers.registry import layer_from_config
from planning.auxiliary import head_configs
from training.algorithms.base import Algorithm, Step, scope
from training.blocks import Block, forward_blocks
from training.gradients import ordered_gradients


class LOCAL(Algorithm):
    name = "LOCAL"

    def __init__(self, config, feedback=None):
        super().__init__(config, feedback)
        self._heads = {}  # block index -> its auxiliary classifier (a Block), made once

    def heads(self, blocks, labels):
        """The auxiliary classifiers of every block but the last, built (variables made)."""
        self.check_defined(blocks)
        per_position = labels.shape.rank == 3
        for block in blocks[:-1]:
            if block.index in self._heads:
                continue
            output = block.layers[-1].output_shape[1:]
            try:
                configs = head_configs(output, labels.shape[-1], per_position)
            except ValueError as error:
                raise ConfigError(f"LOCAL: {block.name}: {error}") from None
            layers = []
            for position, config in enumerate(configs):
                layer = layer_from_config(config)
                layer.name = f"auxiliary/{block.name}/{position}_{config['class_name']}"
                layers.append(layer)
            head = Block(block.index, layers)
            with tf.name_scope("shape_check"):
                probe = tf.compat.v1.placeholder(tf.float32, [None, *output])
                head.forward(probe, training=False)  # makes the head's variables
            self._heads[block.index] = head
        return [self._heads[block.index] for block in blocks[:-1]]

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        heads = self.heads(blocks, labels)
        x, updates = features, []
        for position, block in enumerate(blocks):
            with scope("forward"), tf.name_scope(block.name):
                if updates:
                    # One block at a time: block j + 1 starts once block j is updated.
                    with tf.control_dependencies(updates[-1:]):
                        x = tf.identity(x, name="block_input")
                output = block.forward(tf.stop_gradient(x, name="detached_input"), training=True)
            block_loss, variables = self._local_loss(block, heads, position, output, labels, loss_fn)
            if position == len(blocks) - 1:
                loss = block_loss
            with scope("backward"), tf.name_scope(block.name):
                gradients = ordered_gradients(block_loss, variables, gate_gradients=self.gate_gradients)
            # The update waits for the output (through an Identity: "Control edges stop fusion").
            updates.append(self.apply(make_optimizer(), list(zip(gradients, variables)),
                                      dependencies=[output] + block.pop_updates()))
            x = output
        return Step(train_op=tf.group(updates, name="train_op"), loss=loss, logits=output)

    def _local_loss(self, block, heads, position, output, labels, loss_fn):
        """(block j's loss, the variables it trains): its head's loss, or the network's for the last."""
        if position == len(heads):
            with scope("loss"):
                return loss_fn(output, labels), block.variables
        head = heads[position]
        with scope("auxiliary"), tf.name_scope(block.name):
            head_output = head.forward(output, training=True)
        with scope("loss"), tf.name_scope(f"auxiliary_{block.index}"):
            return loss_fn(head_output, labels), block.variables + head.variables

    def update_directions(self, blocks, features, labels, loss_fn):
        """Each block's local gradient (its own weights only: BP has no heads to compare with)."""
        self.ensure_built(blocks, features)
        heads = self.heads(blocks, labels)
        outputs = forward_blocks(blocks, features, training=True)
        pairs_by_block = []
        for position, (block, output) in enumerate(zip(blocks, outputs)):
            block_loss, _ = self._local_loss(block, heads, position, output, labels, loss_fn)
            gradients = tf.gradients(block_loss, block.variables)
            pairs_by_block.append(list(zip(gradients, block.variables)))
        return pairs_by_block
