"""Weight initializers as plain TF random ops; seeded through the graph-level seed."""
import math

import tensorflow as tf

from definitions.errors import ConfigError

INITIALIZERS = ("glorot_uniform", "he_uniform", "he_normal")


def check_initializer(name, layer):
    if name not in INITIALIZERS:
        raise ConfigError(f"{layer}: weight_init must be one of {', '.join(INITIALIZERS)}, got {name!r}")
    return name


def initial_kernel(shape, fan_in, fan_out, method):
    if method == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return tf.random.uniform(shape, -limit, limit)
    if method == "he_uniform":
        limit = math.sqrt(6.0 / fan_in)
        return tf.random.uniform(shape, -limit, limit)
    return tf.random.truncated_normal(shape, stddev=math.sqrt(2.0 / fan_in) / 0.87962566)
