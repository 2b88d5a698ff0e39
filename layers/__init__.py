"""Declarative layers: construct with settings, variables appear on the first forward."""
from layers.activations import LeakyReLu, ReLu, Sigmoid, Softmax, Tanh
from layers.base import Layer, WeightLayer, layer_to_config
from layers.batch_norm import BatchNormalization
from layers.conv import ConvolutionalLayer
from layers.dense import FullyConnected
from layers.pooling import AveragePool, MaxPool
from layers.registry import LAYER_CLASSES, layer_from_config
from layers.residual import ResidualLayer

__all__ = ["Layer", "WeightLayer", "FullyConnected", "ConvolutionalLayer", "MaxPool", "AveragePool",
           "BatchNormalization", "Sigmoid", "Tanh", "ReLu", "LeakyReLu", "Softmax", "ResidualLayer",
           "LAYER_CLASSES", "layer_from_config", "layer_to_config"]
