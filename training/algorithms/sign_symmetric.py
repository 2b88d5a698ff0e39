"""Sign-symmetric feedback (Liao, Leibo & Poggio 2016; Moskovitz et al. 2018), as BioTorch defines it.

FA whose feedback kernel B_l shares the sign of the forward kernel W_l, re-read every step:
  USF   B = sqrt(2 / (fan_in + fan_out)) * sign(W)   (BioTorch's uSF with its scaling factor, the
        Glorot standard deviation: unscaled, sign(W) backpropagates an error that grows layer by layer)
  BRSF  B = |R| * sign(W), R ~ U(-a, a) redrawn every batch
  FRSF  B = |R| * sign(W), R ~ U(-a, a) drawn once (FA's stored or regenerated matrix)
with a = feedback_scale * sqrt(6 / (fan_in + fan_out)), BioTorch's Xavier-uniform range. Like FA,
every kernel (dense, convolutional, inside residual layers, attention) takes its sign, so no
layer is refused. The order of the step is FA's; B is built when the block's input gradient is,
inside backward/, so it lives only there. sign(W) reads W in the backward pass, which FA never
did: the read is upstream of the block's input gradient, which the block's update waits for, so
no weight is written while it is read (ARCHITECTURE.md, "Updates that race reads copy variables").
"""
import functools
import math

import numpy as np
import tensorflow as tf

from training import draws
from training.algorithms.base import Step
from training.algorithms.fa import FA, weight_layers
from training.feedback import FA_KEY_OFFSET


def kernel_fans(shape):
    """(fan_in, fan_out) as FA and torch count them: a convolution's receptive field in both."""
    return int(np.prod(shape[:-1])), int(np.prod(shape[:-2])) * shape[-1]


class _SignSymmetric(FA):
    def _attach_feedback(self, blocks):
        for key, layer in enumerate(weight_layers(blocks)):
            layer.backward_kernel = functools.partial(self._feedback_kernel, FA_KEY_OFFSET + key, layer)

    def _feedback_kernel(self, key, layer):
        with tf.name_scope("sign_feedback"):
            return self.magnitude(key, layer) * tf.sign(tf.convert_to_tensor(layer.kernel))

    def magnitude(self, key, layer):
        raise NotImplementedError


class USF(_SignSymmetric):
    name = "USF"

    def magnitude(self, key, layer):
        fan_in, fan_out = kernel_fans(layer.kernel.shape.as_list())
        return self.feedback.scale * math.sqrt(2.0 / (fan_in + fan_out))


class FRSF(_SignSymmetric):
    name = "FRSF"

    def magnitude(self, key, layer):
        shape = layer.kernel.shape.as_list()
        return tf.abs(self.feedback.matrix(key, shape, *kernel_fans(shape)))


class BRSF(_SignSymmetric):
    """R is drawn from (run seed, kernel key, step counter): nothing is stored but the counter."""
    name = "BRSF"

    def __init__(self, config, feedback=None):
        super().__init__(config, feedback)
        self.counter = draws.DrawCounter(self.feedback.seed)

    def magnitude(self, key, layer):
        shape = layer.kernel.shape.as_list()
        fan_in, fan_out = kernel_fans(shape)
        limit = self.feedback.scale * math.sqrt(6.0 / (fan_in + fan_out))
        return tf.abs(draws.uniform(self.feedback.seed, key, self.counter.value(), shape, limit))

    def build(self, blocks, features, labels, loss_fn, make_optimizer):
        step = super().build(blocks, features, labels, loss_fn, make_optimizer)
        # Every draw feeds an update, so the counter moves on after the last draw was read.
        return Step(train_op=self.counter.advance([step.train_op]), loss=step.loss, logits=step.logits)
