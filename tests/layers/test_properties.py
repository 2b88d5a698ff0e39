"""Property tests of layers: good settings make the layer they describe, bad ones are refused,
an input fits exactly when it should, and nothing but ConfigError ever escapes.

A layer is user input (a sequence is written by the user). The oracles are written from the
documented meaning of the settings, not from the layers' checks: SETTINGS lists per setting
values that must be accepted (and what get_config must show for them) and values that must be
refused, and expected_shape() computes an output shape, or a refusal, with TensorFlow's
window arithmetic. A last property per topic feeds junk and allows no exception but ConfigError.
"""
import inspect
import json
import math

import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions.errors import ConfigError
from layers import (GELU, AveragePool, BatchNormalization, ConvolutionalLayer, Embedding, FullyConnected,
                    LayerNormalization, LeakyReLu, MaxPool, MultiHeadAttention, PositionEmbedding, ReLu, ResidualLayer,
                    Sigmoid, Softmax, Tanh, layer_from_config, layer_to_config)
from layers.registry import LAYER_CLASSES

CLASSES = [FullyConnected, ConvolutionalLayer, MaxPool, AveragePool, BatchNormalization, LeakyReLu,
           Sigmoid, Tanh, ReLu, Softmax, Embedding, PositionEmbedding, LayerNormalization, MultiHeadAttention, GELU]
INITIALIZERS = ["glorot_uniform", "he_uniform", "he_normal"]

NOT_AN_INT = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=3), st.lists(st.integers(1, 3)))


TOO_BIG = st.integers(min_value=2**31)  # TensorFlow's sizes are int32


def _int(low, high):
    return (st.integers(low, high), st.one_of(st.integers(max_value=low - 1), TOO_BIG,
                                              NOT_AN_INT.filter(lambda v: not isinstance(v, list))), lambda v: v)


def _bool():
    return (st.one_of(st.booleans(), st.sampled_from([0, 1])),
            st.one_of(st.none(), st.text(max_size=4), st.integers().filter(lambda v: v not in (0, 1)), st.floats(0.5, 2)),
            bool)


def _pair(low=1, high=7):
    good = st.one_of(st.integers(low, high), st.lists(st.integers(low, high), min_size=2, max_size=2),
                     st.tuples(st.integers(low, high), st.integers(low, high)))
    bad = st.one_of(st.integers(max_value=0), TOO_BIG, st.none(), st.booleans(), st.text(max_size=3), st.floats(1, 3),
                    st.lists(st.integers(1, 3), max_size=5).filter(lambda v: len(v) not in (2, 4)),
                    st.lists(st.integers(max_value=0), min_size=2, max_size=2), st.lists(st.booleans(), min_size=2, max_size=2))
    return good, bad, lambda v: [v, v] if isinstance(v, int) else list(v)


def _strides():
    good, bad, normalise = _pair(1, 3)
    four = st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda hw: [1, *hw, 1])
    four_bad = st.tuples(st.integers(2, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).map(list)
    return (st.one_of(good, four), st.one_of(bad, four_bad),
            lambda v: [v[1], v[2]] if isinstance(v, (list, tuple)) and len(v) == 4 else normalise(v))


def _number(low, high):
    good = st.floats(low, high) if high is not None else st.floats(low, 1.0)
    bad = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.sampled_from([math.nan, math.inf, -math.inf]),
                    st.floats(max_value=low, exclude_max=True, allow_infinity=False),
                    *([st.floats(min_value=high, exclude_min=True, allow_infinity=False)] if high is not None else []))
    return good, bad, float


PADDING = (st.sampled_from(["SAME", "VALID", "same", "valid", "Same"]),
           st.one_of(st.sampled_from(["same ", " VALID", "", "full", "SAMEE"]), st.none(), st.integers()), str.upper)
INIT = (st.sampled_from(INITIALIZERS), st.one_of(st.sampled_from(["glorot", "he", "", "GLOROT_UNIFORM"]), st.none(),
                                                  st.integers()), lambda v: v)
NAME = (st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9.][A-Za-z0-9_.\-/]{0,6}", fullmatch=True)),
        st.one_of(st.sampled_from(["", "_x", "-x", "/x", "a b", "é"]), st.integers(), st.booleans()), lambda v: v)
STRIDES_OR_NONE = (st.one_of(st.none(), _strides()[0]), _strides()[1].filter(lambda v: v is not None),
                   lambda v: None if v is None else _strides()[2](v))

#: class -> {setting: (values that must be accepted, values that must be refused, what get_config shows)}.
SETTINGS = {
    FullyConnected: {"output_dim": _int(1, 5), "flatten": _bool(), "add_biases": _bool(), "weight_init": INIT,
                     "name": NAME},
    ConvolutionalLayer: {"filter_dim": _pair(), "num_of_filters": _int(1, 4), "strides": _strides(),
                         "padding": PADDING, "add_biases": _bool(), "weight_init": INIT, "name": NAME},
    MaxPool: {"kernel_size": _pair(), "strides": STRIDES_OR_NONE, "padding": PADDING, "name": NAME},
    AveragePool: {"kernel_size": (st.one_of(st.none(), _pair()[0]), _pair()[1].filter(lambda v: v is not None),
                                  lambda v: None if v is None else _pair()[2](v)),
                  "strides": STRIDES_OR_NONE, "padding": PADDING, "name": NAME},
    BatchNormalization: {"axis": (st.integers(-5, 4), st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=2)),
                                  lambda v: v),
                         "momentum": _number(0.0, 1.0), "epsilon": _number(1e-12, None), "fused": _bool(),
                         "name": NAME},
    LeakyReLu: {"alpha": _number(0.0, 1.0), "name": NAME},
    Sigmoid: {"name": NAME}, Tanh: {"name": NAME}, ReLu: {"name": NAME}, Softmax: {"name": NAME},
    Embedding: {"vocab_size": _int(1, 5), "dim": _int(1, 5), "name": NAME},
    PositionEmbedding: {"max_length": _int(1, 6), "name": NAME},
    LayerNormalization: {"epsilon": _number(1e-12, None), "name": NAME},
    MultiHeadAttention: {"num_heads": _int(1, 4), "causal": _bool(), "add_biases": _bool(), "name": NAME},
    GELU: {"approximate": _bool(), "name": NAME},
}


def _required(cls):
    parameters = inspect.signature(cls.__init__).parameters
    return [name for name in parameters if name != "self" and parameters[name].default is inspect.Parameter.empty]


def good_settings(cls):
    """Required settings always, the others sometimes; every value one that must be accepted."""
    spec = SETTINGS[cls]
    required = _required(cls)
    drawn = st.fixed_dictionaries({name: spec[name][0] for name in required},
                                  optional={name: spec[name][0] for name in spec if name not in required})
    # Global average pooling (no kernel) has no strides: giving some is an error of its own.
    return drawn.filter(lambda s: cls is not AveragePool or s.get("kernel_size") is not None or s.get("strides") is None)


def _shown(cls, settings):
    """What get_config must show for the given settings; MaxPool and AveragePool stride like their kernel."""
    shown = {name: SETTINGS[cls][name][2](value) for name, value in settings.items()}
    if cls in (MaxPool, AveragePool) and shown.get("strides") is None:
        kernel = shown.get("kernel_size", [2, 2] if cls is MaxPool else None)
        shown["strides"] = kernel
    return shown


# Mostly small images, so that windows larger than the image (VALID padding) come up often.
IMAGES = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 3)).map(list)
SHAPES = st.one_of(IMAGES, st.lists(st.integers(1, 6), min_size=1, max_size=1),
                   st.lists(st.integers(1, 4), min_size=2, max_size=4))


class Refused(Exception):
    """expected_shape: the layer must refuse this input with a ConfigError."""


def expected_shape(layer, shape):
    """The output shape (batch first, None) of `layer` on an input of `shape`, or Refused."""
    config, kind, rank = layer.get_config(), type(layer).__name__, len(shape)
    if kind == "FullyConnected":
        if rank not in (2, 3) and not config["flatten"]:
            raise Refused
        # On a sequence (batch, time, features) without flatten: per position.
        return [None, shape[1], config["output_dim"]] if rank == 3 and not config["flatten"] else \
            [None, config["output_dim"]]
    if kind == "Embedding":  # token ids (batch, time) only
        if rank != 2:
            raise Refused
        return [None, shape[1], config["dim"]]
    if kind == "PositionEmbedding":
        if rank != 3 or shape[1] > config["max_length"]:
            raise Refused
        return list(shape)
    if kind == "MultiHeadAttention":
        if rank != 3 or shape[2] % config["num_heads"]:
            raise Refused
        return list(shape)
    if kind == "ConvolutionalLayer":
        if rank != 4:
            raise Refused
        return [None, *_window(shape[1:3], config["filter_dim"], config["strides"], config["padding"]),
                config["num_of_filters"]]
    if kind in ("MaxPool", "AveragePool"):
        if rank != 4:
            raise Refused
        if config["kernel_size"] is None:
            return [None, shape[3]]
        return [None, *_window(shape[1:3], config["kernel_size"], config["strides"], config["padding"]), shape[3]]
    if kind == "BatchNormalization":
        if not -rank <= config["axis"] < rank or config["axis"] % rank == 0:  # the batch axis is no feature axis
            raise Refused
        return list(shape)
    if kind == "ResidualLayer":
        inner = list(shape)
        for part in layer.sequence:
            inner = expected_shape(part, inner)
        if inner == list(shape) or len(inner) == rank == 2 or (len(inner) == rank == 3 and inner[1] == shape[1]):
            return inner
        # A 1x1 SAME convolution projects the shortcut: some stride must map each size onto the output's.
        if len(inner) == rank == 4 and all(any(math.ceil(size / stride) == out for stride in range(1, size + 1))
                                           for size, out in zip(shape[1:3], inner[1:3])):
            return inner
        raise Refused
    return list(shape)  # activations


def _window(sizes, kernel, strides, padding):
    out = []
    for size, k, s in zip(sizes, kernel, strides):
        if padding == "VALID" and k > size:
            raise Refused
        out.append(math.ceil((size - k + 1) / s) if padding == "VALID" else math.ceil(size / s))
    return out


def _forward(layer, shape):
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        return layer.forward(tf.compat.v1.placeholder(tf.float32, [None, *shape]), training=True)


PER_CLASS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_settings_spec_covers_every_setting_of_every_layer():
    assert sorted(LAYER_CLASSES) == sorted(cls.__name__ for cls in CLASSES + [ResidualLayer])
    for cls in CLASSES:
        assert sorted(SETTINGS[cls]) == sorted(name for name in inspect.signature(cls.__init__).parameters
                                               if name != "self"), cls.__name__


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@PER_CLASS
@given(data=st.data())
def test_good_settings_make_the_layer_they_describe(cls, data):
    given_settings = data.draw(good_settings(cls), label="settings")
    layer = cls(**given_settings)
    config = layer.get_config()
    for name, value in _shown(cls, given_settings).items():
        assert config[name] == value, name
    assert type(layer)(**config).get_config() == config
    assert str(layer).startswith(cls.__name__ + "(")


BAD_SETTINGS = [(cls, name) for cls in CLASSES for name in SETTINGS[cls]]


@pytest.mark.parametrize("cls,name", BAD_SETTINGS, ids=[f"{cls.__name__}.{name}" for cls, name in BAD_SETTINGS])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_one_bad_setting_is_a_config_error_naming_the_layer(cls, name, data):
    given_settings = data.draw(good_settings(cls), label="settings")
    bad = data.draw(SETTINGS[cls][name][1], label=name)
    with pytest.raises(ConfigError) as error:
        cls(**{**given_settings, name: bad})
    assert str(error.value).startswith(cls.__name__) and "got" in str(error.value), error.value


@settings(max_examples=25, deadline=None)
@given(STRIDES_OR_NONE[0].filter(lambda strides: strides is not None))
def test_global_average_pooling_refuses_strides_it_would_ignore(strides):
    with pytest.raises(ConfigError, match="^AveragePool: .*got strides="):
        AveragePool(kernel_size=None, strides=strides)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@PER_CLASS
@given(data=st.data())
def test_a_layer_takes_the_inputs_that_fit_and_refuses_the_others(cls, data):
    layer = cls(**data.draw(good_settings(cls), label="settings"))
    shape = data.draw(SHAPES, label="input shape")
    try:
        expected = expected_shape(layer, [None, *shape])
    except Refused:
        with pytest.raises(ConfigError) as error:
            _forward(layer, shape)
        assert str(error.value).startswith(cls.__name__), error.value
        return
    assert _forward(layer, shape).shape.as_list() == expected


# Settings as a user might write them, junk mixed in: the constructor and the first forward may
# refuse them, but only with the project's own error.
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 9), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["SAME", "VALID", "same", "same ", "glorot_uniform", "he_normal", "", "x", "a b", "ok_name"]),
    st.lists(st.integers(-2, 6), max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _mostly_good(cls):
    """Three good or bad values for one junk value (st.one_of would flatten and favour the junk)."""
    spec = SETTINGS[cls]
    value = {name: st.integers(0, 3).flatmap(lambda pick, good=good, bad=bad: JUNK if pick == 0 else bad if pick == 1
                                               else good)
             for name, (good, bad, _) in spec.items()}
    required = _required(cls)
    return st.fixed_dictionaries({name: value[name] for name in required},
                                 optional={name: value[name] for name in spec if name not in required})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
@PER_CLASS
@given(data=st.data())
def test_any_settings_and_input_give_a_layer_or_a_config_error_never_another_exception(cls, data):
    kwargs, shape = data.draw(_mostly_good(cls), label="settings"), data.draw(SHAPES, label="input shape")
    try:
        layer = cls(**kwargs)
        output = _forward(layer, shape)
    except ConfigError as error:
        assert str(error).startswith(cls.__name__) and "\n" not in str(error), error
        return
    assert output.shape.rank >= 2 and all(d is None or d > 0 for d in output.shape.as_list())


SMALL_LAYERS = st.one_of(*[good_settings(cls).map(lambda kwargs, cls=cls: cls(**kwargs))
                           for cls in (FullyConnected, ConvolutionalLayer, MaxPool, AveragePool, BatchNormalization,
                                       ReLu)])
ANY_LAYER = st.one_of(SMALL_LAYERS, st.lists(SMALL_LAYERS, min_size=1, max_size=3).map(ResidualLayer))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_LAYER)
def test_the_config_of_a_layer_rebuilds_it(layer):
    config = json.loads(json.dumps(layer_to_config(layer)))
    rebuilt = layer_from_config(config)
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()


def _misspelt(config):
    """The config with one setting's name missing a letter (a name no setting has)."""
    parameters = set(inspect.signature(LAYER_CLASSES[config["class_name"]].__init__).parameters)
    settings_ = config["config"]
    return st.sampled_from(sorted(settings_)).flatmap(lambda name: st.integers(0, len(name) - 1).map(
        lambda i: (name, name[:i] + name[i + 1:]))).filter(lambda pair: pair[1] not in parameters).map(
        lambda pair: {**config, "config": {**{k: v for k, v in settings_.items() if k != pair[0]},
                                           pair[1]: settings_[pair[0]]}})


GOOD_CONFIGS = ANY_LAYER.map(layer_to_config)
BROKEN_CONFIGS = {
    "not a dict": (st.one_of(JUNK.filter(lambda v: not isinstance(v, dict)), GOOD_CONFIGS.map(lambda c: [c])),
                   "^a layer config must be a dict"),
    "unknown class": (st.tuples(GOOD_CONFIGS, st.one_of(st.text(max_size=8), st.sampled_from(["Dense", "relu", 3, None]))
                                .filter(lambda name: name not in LAYER_CLASSES))
                      .map(lambda p: {**p[0], "class_name": p[1]}), "^unknown layer class"),
    "config not a dict": (st.tuples(GOOD_CONFIGS, JUNK.filter(lambda v: not isinstance(v, dict)))
                          .map(lambda p: {**p[0], "config": p[1]}), "config must be a dict"),
    "unknown setting": (GOOD_CONFIGS.flatmap(_misspelt), "unknown setting .*did you mean"),
    "missing setting": (GOOD_CONFIGS.filter(lambda c: _required(LAYER_CLASSES[c["class_name"]])).map(
        lambda c: {**c, "config": {k: v for k, v in c["config"].items()
                                   if k not in _required(LAYER_CLASSES[c["class_name"]])}}), "config lacks"),
    "bad setting": (st.sampled_from(BAD_SETTINGS).flatmap(lambda pair: st.tuples(
        good_settings(pair[0]).map(lambda kwargs, cls=pair[0]: layer_to_config(cls(**kwargs))),
        st.just(pair[1]), SETTINGS[pair[0]][pair[1]][1])).map(
        lambda p: {**p[0], "config": {**p[0]["config"], p[1]: p[2]}}), "got"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_CONFIGS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_broken_layer_config_is_a_config_error_naming_what_is_wrong(kind, data):
    strategy, message = BROKEN_CONFIGS[kind]
    config = data.draw(strategy, label=kind)
    with pytest.raises(ConfigError, match=message):
        layer_from_config(config)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JUNK, st.fixed_dictionaries(
    {"class_name": st.sampled_from([c.__name__ for c in CLASSES] + ["ResidualLayer", "Dense", 3])},
    optional={"config": st.one_of(JUNK, st.dictionaries(
        st.sampled_from(["output_dim", "filter_dim", "num_of_filters", "strides", "padding", "kernel_size",
                         "alpha", "momentum", "axis", "sequence", "flatten", "name", "bogus"]), JUNK, max_size=4))})))
def test_any_layer_config_rebuilds_or_raises_nothing_but_config_error(config):
    try:
        layer_from_config(config)
    except ConfigError as error:
        assert "\n" not in str(error)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SMALL_LAYERS, min_size=1, max_size=3), st.one_of(IMAGES, SHAPES))
def test_a_residual_layer_builds_when_its_shortcut_can_fit_and_refuses_otherwise(sequence, shape):
    _check_residual(ResidualLayer(sequence), shape)


# One window over an image: a 1x1 convolution's stride can map 4 onto 2 but not onto 3.
@settings(max_examples=60, deadline=None)
@given(st.builds(ConvolutionalLayer, st.integers(1, 4), st.integers(1, 3), strides=st.integers(1, 3),
                 padding=st.sampled_from(["SAME", "VALID"])),
       st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3)).map(list))
def test_a_residual_shortcut_follows_a_window_exactly_when_some_stride_can(window, shape):
    _check_residual(ResidualLayer([window]), shape)


def _check_residual(layer, shape):
    try:
        expected = expected_shape(layer, [None, *shape])
    except Refused:
        with pytest.raises(ConfigError) as error:
            _forward(layer, shape)
        assert str(error.value).startswith(tuple(LAYER_CLASSES)), error.value  # names the layer that failed
        return
    output = _forward(layer, shape)
    assert output.shape.as_list() == expected
    assert (layer.projection is None) == (expected == [None, *shape])  # a projection only when shapes differ


def test_shapes_read_the_same_in_every_message():
    from layers.checks import format_shape
    assert format_shape([None, 28, 28, 1]) == "(batch, 28, 28, 1)"
    assert format_shape((None, None, 3)) == "(batch, ?, 3)"  # an unknown size that is not the batch
    assert format_shape([4, 10]) == "(4, 10)"
