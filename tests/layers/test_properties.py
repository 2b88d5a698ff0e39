"""Property tests: random layer settings either make a working layer or fail with ConfigError.

A layer is user input (a sequence is written by the user), so whatever settings it gets and
whatever input shape it meets, the only failure allowed is the project's own error with a
readable message: never a TypeError, a TensorFlow ValueError or a silently odd layer.
"""
import inspect

import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions.errors import ConfigError
from layers import (AveragePool, BatchNormalization, ConvolutionalLayer, FullyConnected, LeakyReLu, MaxPool, ReLu,
                    ResidualLayer, Sigmoid, Softmax, Tanh, layer_from_config)
from layers.registry import LAYER_CLASSES

CLASSES = [FullyConnected, ConvolutionalLayer, MaxPool, AveragePool, BatchNormalization, LeakyReLu,
           Sigmoid, Tanh, ReLu, Softmax]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 9), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["SAME", "VALID", "same", "same ", "glorot_uniform", "he_normal", "", "x", "a b", "ok_name"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(st.integers(-2, 6), max_size=5),
    st.lists(SCALARS, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)
# Values a user would plausibly write, per setting; mixed with junk so that both the checks
# and the shape logic behind them are exercised.
PLAUSIBLE = {
    "output_dim": st.integers(1, 5), "num_of_filters": st.integers(1, 4),
    "filter_dim": st.one_of(st.integers(1, 7), st.lists(st.integers(1, 7), min_size=2, max_size=2)),
    "kernel_size": st.one_of(st.none(), st.integers(1, 7), st.lists(st.integers(1, 7), min_size=2, max_size=2)),
    "strides": st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2),
                         st.lists(st.integers(1, 3), min_size=4, max_size=4)),
    "padding": st.sampled_from(["SAME", "VALID", "same", "valid"]),
    "flatten": st.booleans(), "add_biases": st.booleans(),
    "weight_init": st.sampled_from(["glorot_uniform", "he_uniform", "he_normal"]),
    "alpha": st.floats(0, 1), "momentum": st.floats(0, 1), "epsilon": st.floats(1e-6, 1e-1),
    "axis": st.integers(-4, 4), "name": st.sampled_from([None, "layer", "my.layer-2"]),
}
# Mostly small images, so that windows larger than the image (VALID padding) come up often.
IMAGES = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)).map(list)
SHAPES = st.one_of(IMAGES, IMAGES, st.lists(st.integers(1, 6), min_size=1, max_size=1),
                   st.lists(st.integers(1, 4), min_size=2, max_size=4))


def settings_of(cls):
    """Required settings always given (a missing one is Python's call error, not a setting)."""
    parameters = inspect.signature(cls.__init__).parameters
    required = [name for name in _parameters(cls) if parameters[name].default is inspect.Parameter.empty]
    return st.fixed_dictionaries(
        {name: _mostly(PLAUSIBLE.get(name, VALUES)) for name in required},
        optional={name: _mostly(PLAUSIBLE.get(name, VALUES)) for name in _parameters(cls) if name not in required})


def _mostly(plausible):
    """Three plausible values for one junk value (st.one_of would flatten and favour the junk)."""
    return st.integers(0, 3).flatmap(lambda pick: VALUES if pick == 0 else plausible)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parameters(cls):
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _forward(layer, shape):
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        return layer.forward(tf.compat.v1.placeholder(tf.float32, [None, *shape]), training=True)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_settings_make_a_layer_or_a_config_error(cls, data):
    kwargs, shape = data.draw(settings_of(cls), label="settings"), data.draw(SHAPES, label="input shape")
    try:
        layer = cls(**kwargs)
    except ConfigError as error:
        assert str(error).startswith(cls.__name__) and "got" in str(error)
        return
    try:
        output = _forward(layer, shape)
    except ConfigError as error:
        assert cls.__name__ in str(error)
        return
    # A layer that accepted its settings and its input gives a well-formed output.
    assert output.shape.rank >= 2 and all(d is None or d > 0 for d in output.shape.as_list())
    assert str(layer).startswith(cls.__name__ + "(")


@PROPERTY
@given(st.one_of(VALUES, st.fixed_dictionaries(
    {"class_name": st.sampled_from([c.__name__ for c in CLASSES] + ["ResidualLayer", "Dense", 3])},
    optional={"config": st.one_of(VALUES, st.dictionaries(
        st.sampled_from(["output_dim", "filter_dim", "num_of_filters", "strides", "padding", "kernel_size",
                         "alpha", "momentum", "axis", "sequence", "flatten", "name", "bogus"]), VALUES, max_size=4))})))
def test_random_layer_configs_rebuild_or_raise_config_error(config):
    try:
        layer_from_config(config)
    except ConfigError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([FullyConnected(3), ReLu(), BatchNormalization(), MaxPool(2), AveragePool(None),
                                 ConvolutionalLayer(3, 2)]).map(lambda layer: type(layer)(**layer.get_config())),
                min_size=1, max_size=3), SHAPES)
def test_random_residual_layers_build_or_raise_config_error(sequence, shape):
    try:
        _forward(ResidualLayer(sequence), shape)
    except ConfigError as error:
        assert str(error).startswith(tuple(LAYER_CLASSES)), error  # names the layer that failed
