"""Divergence: NaN or Inf in the loss or in the weights.

The loss is fetched on every step anyway, so it is checked on every step. Checking every
variable on every step would read the whole model once more per step, so the weights are
checked at the end of each epoch (before the evaluation and before a checkpoint is saved, so a
checkpoint never holds non-finite values) and when the loss stops being finite (to say which
variables went bad). Batch-norm moving statistics only matter in evaluation: the epoch-end
check catches them before they make the test loss NaN.
"""
import math

import tensorflow as tf


class FiniteCheck:
    """One op per floating-point global variable: are all its values finite?"""

    def __init__(self, graph):
        with graph.as_default(), tf.name_scope("divergence_check"):
            variables = [v for v in tf.compat.v1.global_variables() if v.dtype.base_dtype.is_floating]
            self.names = [v.op.name for v in variables]
            self.flags = [tf.reduce_all(tf.math.is_finite(v)) for v in variables]

    def non_finite(self, session):
        """Names of the variables holding a NaN or an Inf (empty when all are finite)."""
        if not self.flags:
            return []
        return [name for name, ok in zip(self.names, session.run(self.flags)) if not ok]


def describe(loss_kind=None, variables=()):
    """The reason recorded in result.json and printed after `diverged at epoch E, iteration I`."""
    parts = [f"non-finite {loss_kind}"] if loss_kind else []
    if variables:
        more = f" and {len(variables) - 3} more" if len(variables) > 3 else ""
        parts.append(f"NaN or Inf in {', '.join(variables[:3])}{more}")
    return "; ".join(parts)


def is_finite(value):
    return value is not None and math.isfinite(value)
