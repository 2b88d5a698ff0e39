"""Declarative layers: construct with settings, variables appear on the first forward."""
from layers.activations import GELU, LeakyReLu, ReLu, Sigmoid, Softmax, Tanh
from layers.attention import MultiHeadAttention
from layers.base import Layer, WeightLayer, layer_to_config
from layers.batch_norm import BatchNormalization
from layers.conv import ConvolutionalLayer
from layers.dense import FullyConnected
from layers.embedding import Embedding, PositionEmbedding
from layers.layer_norm import LayerNormalization
from layers.pooling import AveragePool, MaxPool
from layers.registry import LAYER_CLASSES, layer_from_config
from layers.residual import ResidualLayer

__all__ = ["Layer", "WeightLayer", "FullyConnected", "ConvolutionalLayer", "MaxPool", "AveragePool",
           "BatchNormalization", "Sigmoid", "Tanh", "ReLu", "LeakyReLu", "Softmax", "ResidualLayer",
           "Embedding", "PositionEmbedding", "LayerNormalization", "MultiHeadAttention", "GELU",
           "LAYER_CLASSES", "layer_from_config", "layer_to_config"]
