"""The memory model of a network dict: its sequence built once for planning/ to read.

Built as a run builds it (training.preflight, so a sequence that does not fit is the same
ConfigError) but in a scratch graph, on the dataset's shape alone: no data is loaded and no
Session is made.
"""
from dataclasses import dataclass

import tensorflow as tf

from definitions.datasets import dataset_shape, label_shape
from planning.model import MemoryModel
from training.measured_kernels import MeasuredKernels
from training.preflight import build_sequence, checkpoint_plan


@dataclass(frozen=True)
class DatasetShape:
    """What build_sequence reads of a dataset."""
    name: str
    input_shape: tuple
    num_classes: int
    label_shape: tuple = ()


def memory_model(config, threads=None):
    input_shape, classes = dataset_shape(config)
    with tf.Graph().as_default():
        blocks = build_sequence(config, DatasetShape(config.dataset_name, input_shape, classes, label_shape(config)))
    return model_of(config, blocks, input_shape, classes, threads)


def model_of(config, blocks, input_shape, classes, threads=None):
    """The MemoryModel of a config's built blocks (a run's own, for memory_budget), with the
    blocks' kernels measured on this machine's device and kernel library (or read from the cache)."""
    return MemoryModel(blocks, input_shape, classes, name=config.name, sequence=config.sequence,
                       optimizer=config.optimizer, cost_function=config.cost_function, feedback=config.feedback,
                       checkpoint_plan=checkpoint_plan(config, len(blocks)), threads=threads,
                       kernels=MeasuredKernels(blocks, threads), fgrad_perturbation=config.fgrad_perturbation,
                       fgrad_samples=config.fgrad_samples, mezo_samples=config.mezo_samples,
                       update_every=config.update_every)
