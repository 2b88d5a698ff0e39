"""Fixed random feedback matrices for FA, DFA, DFAMEM and DRTP (and FRSF's R).

Each matrix is a function of (run seed, key) through a stateless random op, so the same run
always gets the same matrices. `stored` keeps them as non-trainable variables (saved with the
model, counted as persistent memory); `regenerate` rebuilds them inside every step from the
same stateless seed: identical values, no memory between steps, a little more compute.
"""
import math

import tensorflow as tf

#: Key offsets keep FA's per-kernel matrices and DFA's per-block ones apart.
FA_KEY_OFFSET = 100_000


class Feedback:
    def __init__(self, seed, scale=1.0, regenerate=False):
        self.seed = int(seed)
        self.scale = float(scale)
        self.regenerate = bool(regenerate)
        self._variables = {}

    def matrix(self, key, shape, fan_in, fan_out):
        """The matrix for `key`: a variable (stored) or a fresh tensor in the current scope."""
        if self.regenerate:
            return self._random(key, shape, fan_in, fan_out)
        if key not in self._variables:
            with tf.init_scope():
                graph = tf.compat.v1.get_default_graph()
                with graph.name_scope(None), graph.name_scope("model/feedback/"):
                    self._variables[key] = tf.Variable(self._random(key, shape, fan_in, fan_out),
                                                       trainable=False, name=f"B_{key}")
        return self._variables[key]

    @property
    def stored(self):
        """{key: variable} of the matrices kept as variables (empty when regenerated)."""
        return dict(self._variables)

    def _random(self, key, shape, fan_in, fan_out):
        # Glorot-uniform range: a projected error has the scale a backpropagated one would have.
        limit = self.scale * math.sqrt(6.0 / (fan_in + fan_out))
        return tf.random.stateless_uniform(shape, seed=[self.seed, key], minval=-limit, maxval=limit)


def from_config(config):
    seed = config.seed if config.seed is not None else 0
    return Feedback(seed, config.feedback_scale, regenerate=config.feedback == "regenerate")
