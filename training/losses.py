"""Cost functions on the network output (logits) and one-hot labels.

Each is the mean over the batch of a per-example loss, so dLoss/dOutput (the error that DFA
projects) has the same scale whatever the number of classes. On a token dataset the output and
labels are (batch, time, classes) and the mean is over every position: the loss per token.
"""
import tensorflow as tf

from definitions import config
from definitions.names import by_name


def softmax_cross_entropy(logits, labels):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def sigmoid_cross_entropy(logits, labels):
    per_class = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_mean(tf.reduce_sum(per_class, axis=-1))


def mean_squared_error(logits, labels):
    return tf.reduce_mean(tf.reduce_sum(tf.square(logits - labels), axis=-1))


#: {name: function} for the names in definitions/config.py's COST_FUNCTIONS, the one list of them.
COST_FUNCTIONS = by_name("cost functions", config.COST_FUNCTIONS,
                         (softmax_cross_entropy, sigmoid_cross_entropy, mean_squared_error), lambda f: f.__name__)
