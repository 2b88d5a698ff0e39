"""Every layer converts to a plain config dict and back (Keras' rule)."""
import json

import pytest

from layers import (AveragePool, BatchNormalization, ConvolutionalLayer, FullyConnected, LeakyReLu, MaxPool, ReLu,
                    ResidualLayer, Sigmoid, Softmax, Tanh, layer_from_config, layer_to_config)

LAYERS = [FullyConnected(10, flatten=True, add_biases=False), ConvolutionalLayer((5, 3), 7, [2, 1], "VALID"),
          MaxPool([3, 3], [2, 2], "SAME"), AveragePool(None), AveragePool([2, 2]), BatchNormalization(momentum=0.9),
          Sigmoid(), Tanh(), ReLu(), LeakyReLu(0.3), Softmax(),
          ResidualLayer([ConvolutionalLayer((3, 3), 4), BatchNormalization(), ReLu()]),
          ResidualLayer([FullyConnected(4), ReLu()], joins_block=True)]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_roundtrip_through_json(layer):
    config = json.loads(json.dumps(layer_to_config(layer)))
    rebuilt = layer_from_config(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()
    assert str(rebuilt) == str(layer)


def test_unknown_class():
    with pytest.raises(ValueError, match="Dense"):
        layer_from_config({"class_name": "Dense", "config": {}})
