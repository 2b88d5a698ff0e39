"""MeZO (Malladi et al., NeurIPS 2023, "Fine-tuning language models with just forward passes").

Zeroth-order SGD (SPSA) in place: z ~ N(0, I) of every weight's shape, drawn from (run seed,
variable, step counter) (training/draws.py) and drawn again wherever it is needed instead of kept:
  theta += eps z;  L+ = L(theta);  theta -= 2 eps z;  L- = L(theta);  theta += eps z
  g = (L+ - L-) / (2 eps)   (the projected gradient);   update = g * z through the optimizer.
Two forward passes and no backward pass: the memory of inference. Every layer works (only its
forward pass is run). The weights move in place one variable at a time, so one z is alive at a time.

Alignment angles: none. The statistics subgraph must not write the weights, and MeZO's update
exists only by moving them (ARCHITECTURE.md, "Statistics beside the step").
"""
import tensorflow as tf

from training import draws
from training.algorithms.base import Algorithm, Step, scope
from training.blocks import forward_blocks

#: The paper's perturbation scale (its Table 15: 1e-3 for every task).
DEFAULT_EPSILON = 1e-3


class MEZO(Algorithm):
    name = "MEZO"

    def __init__(self, config, feedback=None, epsilon=None):
        super().__init__(config, feedback)
        self.epsilon = float(epsilon if epsilon is not None else getattr(config, "mezo_epsilon", DEFAULT_EPSILON))
        self.counter = draws.DrawCounter(self.feedback.seed)
        self.projected_gradient = None  # the last step's g, for tests

    def statistics(self, blocks, features, labels, loss_fn):
        return {}

    def perturbation(self, key, variable, counter):
        return draws.normal(self.feedback.seed, key, counter, variable.shape)

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        variables = [v for block in blocks for v in block.variables]
        counter = self.counter.value()
        eps = self.epsilon

        def move(scale, after, label):
            """theta += scale * z, one variable after the other, once `after` exists."""
            with scope("perturb"), tf.name_scope(label):
                done = [tf.identity(after, name="ready")] if isinstance(after, tf.Tensor) else list(after)
                for key, variable in enumerate(variables):
                    with tf.control_dependencies(done):
                        z = self.perturbation(key, variable, counter)
                        done = [variable.assign_add(scale * z, read_value=False)]
            return done

        def loss_at(after, label):
            # Every op of the pass, the weights' reads included, waits for the last move.
            with tf.control_dependencies(after), scope("forward"):
                logits = forward_blocks(blocks, features, training=True, scope=label)[-1]
            with scope("loss"), tf.name_scope(label):
                return loss_fn(logits, labels), logits

        loss_plus, _ = loss_at(move(eps, [], "plus"), "plus")
        state_updates = [op for block in blocks for op in block.pop_updates()]  # once per step
        loss_minus, logits = loss_at(move(-2 * eps, loss_plus, "minus"), "minus")
        for block in blocks:
            block.pop_updates()
        restored = move(eps, loss_minus, "restore")
        with scope("update"):
            projected = tf.identity((loss_plus - loss_minus) / (2 * eps), name="projected_gradient")
        self.projected_gradient = projected
        updates, first = restored, 0
        for block in blocks:
            # One block at a time after the weights are back: its z are drawn again only then.
            with scope("update"), tf.control_dependencies(updates[-1:]):
                pairs = [(projected * self.perturbation(first + i, v, counter), v)
                         for i, v in enumerate(block.variables)]
            first += len(pairs)
            updates = [self.apply(make_optimizer(), pairs)]
        with scope("loss"):
            loss = tf.identity((loss_plus + loss_minus) / 2, name="mean_loss")
        return Step(train_op=tf.group(self.counter.advance(updates), *state_updates, name="train_op"),
                    loss=loss, logits=logits)
