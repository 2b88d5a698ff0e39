"""Optimizers chosen by the network dict's `optimizer` key. They only *apply* updates."""
import tensorflow as tf


def make_optimizer(config):
    train = tf.compat.v1.train
    if config.optimizer == "momentum":
        return train.MomentumOptimizer(config.learning_rate, momentum=config.momentum)
    if config.optimizer == "adam":
        return train.AdamOptimizer(config.learning_rate)
    return train.GradientDescentOptimizer(config.learning_rate)
