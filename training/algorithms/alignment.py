"""The angle between an algorithm's update and the true BP gradient, per block.

Near 90 degrees: unrelated directions; below 90: the update descends the loss; the standard
evidence that feedback alignment happens is this angle falling during training.
"""
import math

import tensorflow as tf


def angle_degrees(updates, gradients):
    """Angle between two lists of tensors, each list read as one flat vector.

    In float64: acos near 1 turns float32 round-off into tenths of a degree.
    """
    updates = [tf.cast(u, tf.float64) for u in updates]
    gradients = [tf.cast(g, tf.float64) for g in gradients]
    dot = tf.add_n([tf.reduce_sum(u * g) for u, g in zip(updates, gradients)])
    norm_u = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(u)) for u in updates]))
    norm_g = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in gradients]))
    cosine = dot / tf.maximum(norm_u * norm_g, 1e-30)
    return tf.acos(tf.clip_by_value(cosine, -1.0, 1.0)) * (180.0 / math.pi)


def block_alignment(blocks, loss, pairs_by_block):
    """{'alignment/block_i': angle} between each block's updates and d loss / d its variables."""
    stats = {}
    with tf.name_scope("alignment"):
        for block, pairs in zip(blocks, pairs_by_block):
            updates, variables = zip(*pairs)
            gradients = tf.gradients(loss, list(variables))
            stats[f"alignment/{block.name}"] = angle_degrees(list(updates), gradients)
    return stats
