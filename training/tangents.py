"""Forward-mode differentiation written by hand: each layer's output and its tangent in one pass.

FGRAD needs the directional derivative of the loss along a random direction of the weights. A
JVP by tf.autodiff.ForwardAccumulator builds each op's JVP from its gradient function (a nested
function call per op holding gradient ops), which the tracer would read as backward work and the
memory model cannot predict. Written by hand, the tangent of every op is one or two plain ops,
computed right after the op itself under forward/.../tangent/.

Defined for what Baydin et al. (2022) train: dense layers and pointwise activations on
(batch, features) tensors. Anything else is refused by `check_layers` before the step is built.
"""
import tensorflow as tf

from definitions.errors import ConfigError
from layers import FullyConnected, LeakyReLu, ReLu, Sigmoid, Tanh

SUPPORTED = (FullyConnected, Sigmoid, Tanh, ReLu, LeakyReLu)
LOSSES = ("softmax_cross_entropy", "sigmoid_cross_entropy", "mean_squared_error")


def check_layers(name, blocks):
    for block in blocks:
        for layer in block.layers:
            if not isinstance(layer, SUPPORTED):
                raise ConfigError(f"{name} computes forward gradients of dense layers and pointwise activations "
                                  f"({', '.join(cls.__name__ for cls in SUPPORTED)}); {block.name} has "
                                  f"{type(layer).__name__}")
            if isinstance(layer, FullyConnected) and len(layer.input_shape) != 2 and not layer.flatten:
                raise ConfigError(f"{name} computes forward gradients of dense layers on (batch, features) "
                                  f"inputs; {block.name}'s {type(layer).__name__} gets {len(layer.input_shape)}-D input")


def check_loss(name, loss_fn):
    if loss_fn.__name__ not in LOSSES:
        raise ConfigError(f"{name} has no forward-mode derivative of the loss {loss_fn.__name__!r}")


def tangent_of(layer, x, y, x_tangent, weight_tangents, activity=None):
    """The derivative of y = layer(x) along (x_tangent, weight_tangents), y computed already; with
    `activity` (a dense layer's), along x_tangent and that perturbation of its output instead.

    x_tangent None: the input does not depend on the weights (the network's input)."""
    if isinstance(layer, FullyConnected):
        with tf.name_scope("tangent"):
            if activity is not None:  # the pre-activation itself is perturbed: d(xW + b) + u
                through = tf.matmul(layer.prepare_input(x_tangent), tf.convert_to_tensor(layer.kernel)) \
                    if x_tangent is not None else None
                return activity if through is None else through + activity
            # d(xW + b) = dx W + x dW + db. dx W first: it is ready as soon as the previous layer's
            # tangent is, and frees that tangent.
            through = None
            if x_tangent is not None:
                through = tf.matmul(layer.prepare_input(x_tangent), tf.convert_to_tensor(layer.kernel))
            dy = tf.matmul(layer.prepare_input(x), weight_tangents[0])  # flattening is a view
            if through is not None:
                dy = dy + through
            if len(weight_tangents) > 1:
                dy = tf.nn.bias_add(dy, weight_tangents[1])
        return dy
    if x_tangent is None:  # before the first weight layer nothing depends on the weights
        return None
    with tf.name_scope("tangent"):
        # The derivative from the output alone: the pre-activation need not be kept.
        if isinstance(layer, Sigmoid):
            return x_tangent * (y * (1 - y))
        if isinstance(layer, Tanh):
            return x_tangent * (1 - tf.square(y))
        # ReLU, leaky ReLU (alpha >= 0): the output's sign is the input's.
        if isinstance(layer, ReLu):
            return x_tangent * tf.cast(y > 0, x_tangent.dtype)
        return tf.where(y > 0, x_tangent, layer.alpha * x_tangent)


def loss_tangent(loss_name, logits, logits_tangent, labels, per_example=False):
    """The loss's derivative along logits_tangent, from the loss's own formula (training/losses.py):
    each loss is a mean over examples (and positions) of a sum over classes of per-class terms.
    per_example: each example's term of that mean, (batch,) (activity perturbation)."""
    if loss_name == "softmax_cross_entropy":
        per_class = tf.nn.softmax(logits) - labels
    elif loss_name == "sigmoid_cross_entropy":
        per_class = tf.sigmoid(logits) - labels
    else:
        per_class = 2.0 * (logits - labels)
    terms = tf.reduce_sum(per_class * logits_tangent, axis=-1)
    if per_example:
        return terms / tf.cast(tf.shape(terms)[0], terms.dtype)
    return tf.reduce_mean(terms)
