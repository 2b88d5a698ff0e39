"""The shapes the memory model reads: per block, per layer, input/output and variable shapes.

Read from layers that have been built once on a symbolic input (training.preflight builds
them, in a scratch graph, without a Session), so every shape is TensorFlow's own. The result is
plain tuples: the programs for any batch size are then built without TensorFlow, and planning
imports neither TensorFlow nor training (training imports planning: ARCHITECTURE.md, "Imports").
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LayerShape:
    kind: str  # the layer's class name
    name: str
    input: tuple  # per example (no batch dimension)
    output: tuple
    variables: tuple  # shapes of the trainable variables, in creation order
    state: tuple = ()  # shapes of the non-trainable ones (batch-norm moving averages)
    settings: dict = field(default_factory=dict)
    inner: tuple = ()  # ResidualLayer: the inner sequence
    projection: object = None  # ResidualLayer: the 1x1 projection (a LayerShape), if any

    @property
    def kernel(self):
        return self.variables[0] if self.variables else None

    def variable_elements(self):
        own = sum(int(np.prod(v)) for v in self.variables)
        return own + sum(layer.variable_elements() for layer in self.parts if layer is not self)

    @property
    def parts(self):
        """The layer itself, or for a residual layer the layers inside it (projection last)."""
        if self.kind != "ResidualLayer":
            return (self,)
        return self.inner + ((self.projection,) if self.projection is not None else ())

    def kernels(self):
        """Every kernel shape, those inside residual layers included (FA's feedback matrices)."""
        if self.kind == "ResidualLayer":
            return [k for layer in self.parts for k in layer.kernels()]
        # Not Embedding's: nothing flows back through it, so FA never makes its matrix.
        return [self.kernel] if self.kind in ("FullyConnected", "ConvolutionalLayer", "MultiHeadAttention") else []


@dataclass(frozen=True)
class BlockShape:
    index: int
    layers: tuple

    @property
    def output(self):
        return self.layers[-1].output

    @property
    def input(self):
        return self.layers[0].input


def block_shapes(blocks):
    """[BlockShape] of built blocks: anything with `.index` and `.layers` whose layers have run
    once (training.preflight.build_sequence builds them), so their shapes are TensorFlow's own."""
    return [BlockShape(block.index, tuple(_layer_shape(layer) for layer in block.layers)) for block in blocks]


def _layer_shape(layer):
    settings = {key: value for key, value in layer.get_config().items() if key not in ("name", "sequence")}
    inner, projection = (), None
    if type(layer).__name__ == "ResidualLayer":
        inner = tuple(_layer_shape(part) for part in layer.sequence)
        projection = _layer_shape(layer.projection) if layer.projection is not None else None
        own = ()
    else:
        own = tuple(tuple(v.shape.as_list()) for v in layer.variables)
    state = tuple(tuple(v.shape.as_list()) for v in layer.non_trainable_variables) if not inner else ()
    return LayerShape(type(layer).__name__, layer.name, tuple(layer.input_shape[1:]), tuple(layer.output_shape[1:]),
                      own, state, settings, inner, projection)
