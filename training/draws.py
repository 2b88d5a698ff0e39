"""Random draws that change every step but are a pure function of (run seed, key, step).

BRSF's feedback magnitudes, FGRAD's tangents and MEZO's perturbations are redrawn each step.
Each draw is a stateless random op seeded by the run seed and a key (the variable or kernel it
belongs to), folded with a step counter. The counter is a variable of its own, so the Saver keeps
it in every checkpoint and a resumed run draws what the uninterrupted run would have drawn; the
same key and counter give the same draw anywhere (MEZO regenerates its perturbation three times
instead of holding it, tests regenerate a step's draws in numpy's place).
"""
import tensorflow as tf


class DrawCounter:
    """The step number that random draws fold in: read during a step, advanced after it."""

    def __init__(self, seed):
        self.seed = int(seed)
        self._variable = None

    @property
    def variable(self):
        if self._variable is None:
            with tf.init_scope():
                graph = tf.compat.v1.get_default_graph()
                with graph.name_scope(None), graph.name_scope("model/draws/"):
                    self._variable = tf.Variable(0, dtype=tf.int64, trainable=False, name="counter")
        return self._variable

    def value(self):
        return self.variable.read_value()

    def advance(self, after):
        """The op that moves to the next step's draws once every op in `after` ran."""
        with tf.name_scope("update/"), tf.control_dependencies(after):
            return self.variable.assign_add(1, read_value=False)


def seed(run_seed, key, counter):
    """The stateless seed of draw `key` at step `counter` (a tensor or an int)."""
    return tf.random.experimental.stateless_fold_in(tf.constant([int(run_seed), int(key)], tf.int64),
                                                     tf.cast(counter, tf.int64))


def normal(run_seed, key, counter, shape):
    """N(0, 1) of `shape`: FGRAD's tangent and MEZO's perturbation for the variable `key`."""
    return tf.random.stateless_normal(shape, seed=seed(run_seed, key, counter))


def uniform(run_seed, key, counter, shape, limit):
    """U(-limit, limit) of `shape`: BRSF's feedback magnitudes for the kernel `key`."""
    return tf.random.stateless_uniform(shape, seed=seed(run_seed, key, counter), minval=-limit, maxval=limit)
