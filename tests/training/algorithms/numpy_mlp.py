"""A 3-layer MLP (sigmoid, ReLU) in numpy: the forward pass, the loss and BP's gradient, written from
the equations, for the references of the new rules' steps (tests only)."""
import numpy as np

ACTIVATIONS = [(lambda a: 1 / (1 + np.exp(-a)), lambda a: (s := 1 / (1 + np.exp(-a))) * (1 - s)),
               (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(np.float64))]


def mlp_layers():
    from layers import FullyConnected, ReLu, Sigmoid
    return [FullyConnected(6), Sigmoid(), FullyConnected(5), ReLu(), FullyConnected(3)]


def forward(weights, x):
    """(logits, [pre-activations], [layer inputs]) of x through (w1, b1, w2, b2, w3, b3)."""
    h, pre, inputs = np.asarray(x, np.float64), [], []
    for layer in range(3):
        w, b = (np.asarray(v, np.float64) for v in weights[2 * layer:2 * layer + 2])
        inputs.append(h)
        a = h @ w + b
        pre.append(a)
        h = ACTIVATIONS[layer][0](a) if layer < 2 else a
    return h, pre, inputs


def softmax(logits):
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def loss(weights, x, y):
    """Mean softmax cross-entropy."""
    logits = forward(weights, x)[0]
    return float(np.mean(-np.sum(y * np.log(softmax(logits)), axis=1)))


def gradients(weights, x, y, feedback=None):
    """d loss / d weights by the chain rule; with `feedback` (a (in, out) matrix per layer, the first
    unused), the error reaches each hidden layer through B_l instead of W_l (feedback alignment)."""
    logits, pre, inputs = forward(weights, x)
    delta = (softmax(logits) - y) / len(x)
    grads = [None] * 6
    for layer in (2, 1, 0):
        grads[2 * layer], grads[2 * layer + 1] = inputs[layer].T @ delta, delta.sum(0)
        if layer:
            back = np.asarray(feedback[layer] if feedback is not None else weights[2 * layer], np.float64)
            delta = (delta @ back.T) * ACTIVATIONS[layer - 1][1](pre[layer - 1])
    return grads
