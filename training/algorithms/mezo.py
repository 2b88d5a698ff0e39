"""MeZO (Malladi et al., NeurIPS 2023, "Fine-tuning language models with just forward passes").

Zeroth-order SGD (SPSA) in place: z ~ N(0, I) of every weight's shape, drawn from (run seed,
variable, step counter) (training/draws.py) and drawn again wherever it is needed instead of kept:
  theta += eps z;  L+ = L(theta);  theta -= 2 eps z;  L- = L(theta);  theta += eps z
  g = (L+ - L-) / (2 eps)   (the projected gradient);   update = g * z through the optimizer.
Two forward passes and no backward pass: the memory of inference. Every layer works (only its
forward pass is run). The weights move in place one variable at a time, so one z is alive at a time.

`mezo_samples: n` is the paper's n-SPSA (its Definition 1): n perturbations z_1..z_n one after the
other, each with its two passes and its g_i, and the update (1/n) sum_i g_i z_i, summed one z at a
time. n = 1 is its Algorithm 1; the estimate's variance falls n-fold for n times the passes.

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

    def __init__(self, config, feedback=None, epsilon=None, samples=None):
        super().__init__(config, feedback)
        self.epsilon = float(epsilon if epsilon is not None else getattr(config, "mezo_epsilon", DEFAULT_EPSILON))
        self.samples = int(samples or getattr(config, "mezo_samples", 1))
        self.counter = draws.DrawCounter(self.feedback.seed)
        self.projected_gradient = None  # the last step's g (n-SPSA: [g_1, ..., g_n]), for tests

    def statistics(self, blocks, features, labels, loss_fn):
        return {}

    def perturbation(self, key, variable, counter, sample=0, variables=0):
        """z of the variable numbered `key` for perturbation `sample` (keys of sample i follow those of
        i - 1, so sample 0's are Algorithm 1's)."""
        return draws.normal(self.feedback.seed, sample * variables + key, counter, variable.shape)

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        self.ensure_built(blocks, features)
        variables = [v for block in blocks for v in block.variables]
        counter = self.counter.value()
        eps = self.epsilon

        def move(scale, after, label, sample):
            """theta += scale * z, one variable after the other, once `after` exists."""
            with scope("perturb"), tf.name_scope(label):
                done = [tf.identity(after, name="ready")] if isinstance(after, tf.Tensor) else list(after)
                for key, variable in enumerate(variables):
                    with tf.control_dependencies(done):
                        z = self.perturbation(key, variable, counter, sample, len(variables))
                        done = [variable.assign_add(scale * z, read_value=False)]
            return done

        def loss_at(after, label):
            # Every op of the pass, the weights' reads included, waits for the last move.
            with tf.control_dependencies(after), scope("forward"):
                logits = forward_blocks(blocks, features, training=True, scope=label)[-1]
            with scope("loss"), tf.name_scope(label):
                return loss_fn(logits, labels), logits

        restored, projected, losses, state_updates = [], [], [], None
        for sample in range(self.samples):
            suffix = f"_{sample}" if sample else ""
            loss_plus, _ = loss_at(move(eps, restored, "plus" + suffix, sample), "plus" + suffix)
            updates_of_pass = [op for block in blocks for op in block.pop_updates()]
            state_updates = updates_of_pass if state_updates is None else state_updates  # once per step
            loss_minus, pass_logits = loss_at(move(-2 * eps, loss_plus, "minus" + suffix, sample), "minus" + suffix)
            logits = pass_logits if not sample else logits
            for block in blocks:
                block.pop_updates()
            restored = move(eps, loss_minus, "restore" + suffix, sample)
            with scope("update"):
                projected.append(tf.identity((loss_plus - loss_minus) / (2 * eps), name="projected_gradient" + suffix))
            losses += [loss_plus, loss_minus]
        self.projected_gradient = projected[0] if self.samples == 1 else projected
        updates, first = restored, 0
        for block in blocks:
            # One block at a time after the weights are back: its z are drawn again only then.
            with scope("update"), tf.control_dependencies(updates[-1:]):
                pairs = []
                for i, v in enumerate(block.variables):
                    after = pairs[-1][0] if pairs and self.samples > 1 else None
                    pairs.append((self._mean_step(projected, first + i, v, counter, len(variables), after), v))
            first += len(pairs)
            # n-SPSA: the block's sums chained one after the other, then applied together, so the
            # executor cannot run the next sum's draws beside an update: the peak is the same each step.
            waits = [grad for grad, _ in pairs] if self.samples > 1 else []
            updates = [self.apply(make_optimizer(), pairs, waits)]
        with scope("loss"):
            mean = (losses[0] + losses[1]) / 2 if len(losses) == 2 else tf.add_n(losses) / len(losses)
            loss = tf.identity(mean, name="mean_loss")
        return Step(train_op=tf.group(self.counter.advance(updates), *state_updates, name="train_op"),
                    loss=loss, logits=logits)

    def _mean_step(self, projected, key, variable, counter, variables, after=None):
        """(1/n) sum_i g_i z_i of one variable, each z_i drawn once the sum before it exists (the
        first once `after`, the block's previous variable's sum, exists: one sum alive at a time)."""
        if len(projected) == 1:
            return projected[0] * self.perturbation(key, variable, counter)
        total = None
        for sample, g in enumerate(projected):
            waits = total if total is not None else after
            with tf.control_dependencies([waits] if waits is not None else []):
                term = (g / len(projected)) * self.perturbation(key, variable, counter, sample, variables)
            total = term if total is None else total + term
        return total
