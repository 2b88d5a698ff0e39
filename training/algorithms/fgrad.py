"""Forward gradient (Baydin, Pearlmutter, Syme, Wood & Torr 2022, "Gradients without backpropagation").

Each step draws a tangent v ~ N(0, I) of every weight's shape, computes in the single forward pass
the directional derivative d = grad L . v by forward-mode differentiation (training/tangents.py:
each layer's output and its tangent side by side, no backward op), and updates with g = d * v, an
unbiased estimate of grad L. Defined for dense layers and pointwise activations (the paper's MLP
experiments; its CNN is not covered); other layers are refused with one line.

`fgrad_perturbation: activity` (Ren, Kornblith, Liao & Hinton, ICLR 2023, without their local
losses) perturbs each dense layer's output per example instead: u_l ~ N(0, I) of (batch, units),
d_n = sum_l dL/dz_l[n] . u_l[n] by the same forward mode, and W_l's update h_(l-1)^T (d u_l). One
perturbed unit per example and unit instead of one per weight: a far smaller variance (digits: 79%
against 68%), paid for by holding each block's input until d exists. `fgrad_samples: K` (activity
only) averages K independent perturbations of each example: the batch runs as K copies, each
perturbed on its own, and the mean loss over the copies is the batch's; the estimate's variance
falls K-fold for K times the forward pass's arithmetic and activations.

Memory: nothing is kept for a backward pass; beside each activation lives its tangent. v is drawn
from (run seed, variable, step counter) (training/draws.py) once its block's output exists, and
drawn again for the update once d exists, so no tangent of the weights outlives its block.
"""
import tensorflow as tf

from definitions.config import check_fgrad_samples
from training import draws, tangents
from training.algorithms.base import Algorithm, Step, scope


def forward_layers(layers, x):
    outputs = []
    for layer in layers:
        x = layer.forward(x, training=True)
        outputs.append(x)
    return outputs


#: Keys of the activity perturbations' draws, apart from the weights' (numbered from 0).
ACTIVITY_KEY_OFFSET = 1_000_000


class FGRAD(Algorithm):
    name = "FGRAD"

    def __init__(self, config, feedback=None, perturbation=None, samples=None):
        super().__init__(config, feedback)
        self.counter = draws.DrawCounter(self.feedback.seed)
        self.perturbation = perturbation or getattr(config, "fgrad_perturbation", "weights")
        self.samples = int(samples or getattr(config, "fgrad_samples", 1))
        check_fgrad_samples(self.samples, self.perturbation)
        self._inputs = {}  # activity: block index -> the dense layer's input, which its update reads

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        loss, logits, derivative, counter = self._forward(blocks, features, labels, loss_fn)
        updates, first = [], 0
        for block in blocks:
            # One block at a time: its tangents are drawn again after the previous block's update,
            # so one block's are alive at a time (they depend only on the counter and d, and the
            # executor would otherwise draw them all as soon as d exists).
            with scope("update"), tf.control_dependencies(updates[-1:]):
                pairs = self._pairs(block, first, derivative, counter)
            updates.append(self.apply(make_optimizer(), pairs))
            first += len(pairs)
        return Step(train_op=self.counter.advance(updates), loss=loss, logits=logits)

    def update_directions(self, blocks, features, labels, loss_fn):
        _, _, derivative, counter = self._forward(blocks, features, labels, loss_fn)
        pairs_by_block, first = [], 0
        for block in blocks:
            pairs_by_block.append(self._pairs(block, first, derivative, counter))
            first += len(pairs_by_block[-1])
        return pairs_by_block

    def tangent(self, key, variable, counter):
        """v for the variable numbered `key` (in block order) at step `counter`."""
        return draws.normal(self.feedback.seed, key, counter, variable.shape)

    def activity(self, block, x, counter):
        """u ~ N(0, I) of the block's dense output, (batch, units), for the block at step `counter`.
        Its batch is read from the block's input: a reader of the dense output would stop its fusion."""
        dense = block.layers[0]
        shape = tf.stack([tf.shape(x)[0], dense.output_dim])
        return draws.normal(self.feedback.seed, ACTIVITY_KEY_OFFSET + block.index, counter, shape)

    def _pairs(self, block, first, derivative, counter):
        """[(d * v, variable)] of a block whose first variable is numbered `first`; drawn once d exists
        (waited for through an Identity: ARCHITECTURE.md, "Control edges stop fusion"). Activity
        perturbation: d holds one derivative per example, and the dense layer's update is
        x^T (d u) and sum(d u), the estimate of its pre-activation's gradient taken through the layer."""
        with tf.control_dependencies([tf.identity(derivative, name="ready")]):
            if self.perturbation == "activity":
                x = block.layers[0].prepare_input(self._inputs[block.index])
                scaled = derivative[:, None] * self.activity(block, x, counter)
                updates = [tf.matmul(x, scaled, transpose_a=True), tf.reduce_sum(scaled, axis=0)]
                return list(zip(updates, block.variables))
            return [(derivative * self.tangent(first + i, v, counter), v) for i, v in enumerate(block.variables)]

    def _forward(self, blocks, features, labels, loss_fn):
        """(loss, logits, d = grad L . v, the counter read): one forward pass with tangents."""
        self.ensure_built(blocks, features)
        tangents.check_layers(self.name, blocks)
        tangents.check_loss(self.name, loss_fn)
        counter = self.counter.value()
        if self.samples > 1:
            with scope("forward"), tf.name_scope("copies"):
                batch = tf.shape(features)[0]
                features, labels = (tf.tile(t, [self.samples] + [1] * (t.shape.rank - 1)) for t in (features, labels))
        x, dx, key = features, None, 0
        with scope("forward"):
            for block in blocks:
                with tf.name_scope(block.name):
                    if dx is not None:
                        # Lockstep: a block's forward waits for the previous block's tangent. Else the
                        # executor runs the forward pass ahead (its ops are ready first) and every
                        # activation waits for its tangent: +20% on a 3-block MLP.
                        with tf.control_dependencies([tf.identity(dx, name="tangent_ready")]):
                            x = tf.identity(x, name="block_input")
                    outputs = forward_layers(block.layers, x)
                    # Drawn once the block's output exists, so v lives from there to its product. (Not
                    # after the dense layer's own output: a reader of it would stop oneDNN fusing the
                    # layer with its activation.)
                    with tf.control_dependencies([tf.identity(outputs[-1], name="ready")]), tf.name_scope("tangent"):
                        vs, activity = [], None
                        for layer in block.layers:
                            vs.append([self.tangent(key + i, v, counter) for i, v in enumerate(layer.variables)]
                                      if self.perturbation == "weights" else [])
                            key += len(layer.variables)
                        if self.perturbation == "activity":
                            activity = self.activity(block, x, counter)
                            self._inputs[block.index] = x
                    for layer, layer_input, y, layer_vs in zip(block.layers, [x] + outputs[:-1], outputs, vs):
                        dx = tangents.tangent_of(layer, layer_input, y, dx, layer_vs,
                                                 activity if layer is block.layers[0] else None)
                    x = outputs[-1]
        with scope("loss"):
            loss = loss_fn(x, labels)
            derivative = tangents.loss_tangent(loss_fn.__name__, x, dx, labels,
                                               per_example=self.perturbation == "activity")
        if self.samples > 1:
            with scope("loss"):  # the first copy's logits: the batch's own, for accuracy
                x = x[:batch]
        return loss, x, derivative, counter
