"""Property tests of network dicts: what must validate validates, what must fail fails.

Network dicts come from users (networks.py, --set KEY=VALUE as JSON, a run's config.json on
--resume). The oracle is SPEC below, written from the documented meaning of each key and not
from the validator: per key, values that must be accepted (and what they normalise to) and
values that must be refused. Dicts are built from it by construction, so each test knows
which outcome is right. A last property feeds anything at all and allows no exception but
ConfigError.
"""
import dataclasses
import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from definitions import config as config_module
from definitions import networks, sequences
from definitions.config import NetworkConfig, validate
from definitions.errors import ConfigError
from definitions.registry import get_network, get_sequence, network_names, sequence_names

FIELDS = [f.name for f in dataclasses.fields(NetworkConfig)]
DEFAULTS = NetworkConfig().to_dict()
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2, 200),
                    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 20),
                    st.text(max_size=8), st.sampled_from(["BP", "DFA", "digits", "fcReLu", "sgd", "adam", "yes", "0"]))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.lists(inner, max_size=2).map(tuple),
                                                      st.dictionaries(st.text(max_size=4), inner, max_size=2)),
                    max_leaves=6)
NOT_A_STRING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.text(max_size=3), max_size=2))
NOT_A_NUMBER = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                         st.just(math.nan))
NOT_AN_INTEGER = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
                           st.lists(st.integers(), max_size=2))


def _choice(choices):
    """One of `choices`, exactly; anything else (a near miss in case or spacing too) is refused."""
    near = st.sampled_from(choices).flatmap(lambda c: st.sampled_from([c.lower(), c.upper(), c + " ", " " + c, c[:-1]]))
    return (st.sampled_from(choices), st.one_of(NOT_A_STRING, st.text(max_size=10), near)
            .filter(lambda v: not isinstance(v, str) or v not in choices), lambda v: v)


INT32_MAX = 2**31 - 1  # the bounds below are README's "valid" column


def _integer(low, high=None, optional=False):
    top = high if high is not None else 10**9
    good = st.one_of(st.integers(low, top), st.sampled_from([low, top]))
    bad = st.one_of(NOT_AN_INTEGER.filter(lambda v: not (optional and v is None)),
                    st.integers(max_value=low - 1), st.just(low - 1),
                    *([st.integers(min_value=high + 1), st.just(high + 1)] if high is not None else []))
    return (st.one_of(good, st.none()) if optional else good), bad, lambda v: v


def _number(low, high, low_open=False):
    good = st.one_of(st.floats(low, high, exclude_min=low_open, allow_nan=False),
                     st.integers(math.ceil(low) + low_open, int(high)), st.sampled_from([high] + ([] if low_open else [low])))
    bad = st.one_of(NOT_A_NUMBER, st.sampled_from([math.inf, -math.inf] + ([low] if low_open else [])),
                    st.floats(high, exclude_min=True, allow_infinity=False),
                    st.floats(max_value=low, exclude_max=not low_open, allow_infinity=False))
    return good, bad, float


TRUE_WORDS, FALSE_WORDS = ["true", "yes", "1"], ["false", "no", "0"]
WORD = st.sampled_from(TRUE_WORDS + FALSE_WORDS).flatmap(
    lambda w: st.sampled_from([w, w.upper(), w.capitalize(), f" {w} "]))
BOOLEAN = (st.one_of(st.booleans(), st.sampled_from([0, 1]), WORD),
           st.one_of(st.none(), st.integers().filter(lambda v: v not in (0, 1)), st.floats(), st.lists(st.booleans()),
                     st.text(max_size=6).filter(lambda v: v.strip().lower() not in TRUE_WORDS + FALSE_WORDS)),
           lambda v: v.strip().lower() in TRUE_WORDS if isinstance(v, str) else bool(v))
# A path is any non-empty string without a NUL (no file system takes those), or null.
PATH = (st.one_of(st.none(), st.text(min_size=1, max_size=10).filter(lambda v: "\0" not in v)),
        st.one_of(NOT_A_STRING.filter(lambda v: v is not None), st.just(""),
                  st.text(max_size=4).map(lambda v: v + "\0")), lambda v: v)
PAIR = st.tuples(st.integers(1, 500), st.one_of(st.floats(0, 100), st.integers(0, 100)))
EPOCHS, PERCENTS = st.integers(1, 5), st.integers(0, 100)
# One way to be wrong per branch (st.one_of draws its branches evenly, nested ones flattened).
BAD_PAIR = st.one_of(
    st.tuples(st.integers(max_value=0), PERCENTS), st.tuples(st.booleans(), PERCENTS),
    st.tuples(st.floats(1, 5), PERCENTS), st.tuples(st.text(max_size=2), PERCENTS),
    st.tuples(EPOCHS, st.floats(100, exclude_min=True)), st.tuples(EPOCHS, st.floats(max_value=0, exclude_max=True)),
    st.tuples(EPOCHS, st.booleans()), st.tuples(EPOCHS, st.just(math.nan)), st.tuples(EPOCHS, st.none()),
    st.lists(EPOCHS, max_size=3).filter(lambda v: len(v) != 2), st.integers(), st.text(max_size=3), st.none())
# Good pairs with one bad pair among them (one, so that each check is what refuses it).
BAD_PAIRS = st.tuples(st.lists(PAIR, max_size=2), BAD_PAIR).flatmap(
    lambda parts: st.integers(0, len(parts[0])).map(lambda i: [*parts[0][:i], parts[1], *parts[0][i:]]))
SHAPE_GOOD = st.lists(st.integers(1, 64), min_size=1, max_size=4)
SHAPE_BAD = st.one_of(st.just([]), st.integers(), st.text(max_size=4), st.none(),
                      st.lists(st.one_of(st.integers(max_value=0), st.booleans(), st.floats(1, 5)), min_size=1, max_size=3),
                      SHAPE_GOOD.flatmap(lambda good: st.integers(0, len(good)).map(lambda i: [*good[:i], 0, *good[i:]])))

# A checkpoint plan as written: segment lengths joined by '|', split segments in parentheses,
# spaces anywhere; an integer is a plan of one segment. Whether it covers the sequence's blocks is
# checked once the sequence is known (training/preflight.py), not by the config alone.
PLAN_PART = st.recursive(st.integers(1, 64).map(str),
                         lambda inner: st.lists(inner, min_size=2, max_size=3).map(lambda p: "(" + "|".join(p) + ")"),
                         max_leaves=8)
PLAN_TEXT = st.tuples(st.lists(PLAN_PART, min_size=1, max_size=4).map("|".join), st.booleans()).map(
    lambda parts: parts[0].replace("|", " | ") if parts[1] else parts[0])
PLAN = (st.one_of(st.none(), PLAN_TEXT, st.integers(1, 10**6)),
        st.one_of(st.booleans(), st.floats(), st.integers(max_value=0), st.lists(st.integers(1, 4), max_size=2),
                  st.sampled_from(["", " ", "\t", "2,2", "[2, 2]", "2|x", "1.5", "-1", "(2|2)|4|4\n"])),
        lambda v: str(v) if isinstance(v, int) else v)


MEMORY_SIZE = (st.one_of(st.none(), st.integers(1, 2**50), st.sampled_from(["300MiB", "2GiB", "1.5GB", "512 KiB", "3e8"])),
               st.one_of(st.booleans(), st.integers(max_value=0), st.lists(st.integers(1, 4), max_size=2),
                         st.sampled_from(["", "MiB", "300 parsecs", "-1GiB", "0", "nan"])),
               lambda v: v)


def _one_placement(network):
    """segment_size and checkpoint_plan both place BPCKPT's checkpoints: a network sets one at most.
    fgrad_samples above 1 needs fgrad_perturbation 'activity'."""
    if network.get("checkpoint_plan") is not None and network.get("segment_size") is not None:
        network = {key: value for key, value in network.items() if key != "segment_size"}
    if network.get("fgrad_samples", 1) > 1 and network.get("fgrad_perturbation") != "activity":
        network = dict(network, fgrad_perturbation="activity")
    return network


#: key -> (values that must validate, values that must be refused, what a good value normalises to).
SPEC = {
    "name": (st.text(max_size=12), NOT_A_STRING, lambda v: v),
    "type": _choice(config_module.TRAINING_TYPES),
    "dataset_name": _choice(config_module.DATASETS),
    "sequence": _choice(tuple(sequence_names())),
    # Files of the user's that exist are run (tests/definitions/test_user_definitions.py); here none is named.
    "definitions": (st.sampled_from([[], ()]),
                    st.one_of(st.booleans(), st.integers(), st.none(), st.floats(), st.sampled_from(["", "a\0b"]),
                              st.lists(st.one_of(st.integers(), st.none(), st.just("")), min_size=1, max_size=2),
                              st.sampled_from(["/", ["/nonexistent-zppmem-dir/nets.py"]])),
                    list),
    "cost_function": _choice(config_module.COST_FUNCTIONS),
    "learning_rate": _number(0, 10, low_open=True),
    "optimizer": _choice(config_module.OPTIMIZERS),
    "momentum": _number(0, 1),
    "batch_size": _integer(1, INT32_MAX),
    "epochs": _integer(1, 100_000),
    "seed": _integer(0, 2**31 - 1, optional=True),
    "minimum_accuracy": (st.lists(st.one_of(PAIR, PAIR.map(list)), max_size=3),
                         st.one_of(BAD_PAIRS, st.sampled_from([5, "1,50", None, 1.5, True, {"1": 50}])),
                         lambda v: [[epoch, float(percent)] for epoch, percent in v]),
    "eval_period": _integer(0, INT32_MAX),
    "stat_period": _integer(1, INT32_MAX),
    "gather_stats": BOOLEAN,
    "save_graph": BOOLEAN,
    "feedback": _choice(config_module.FEEDBACK_MODES),
    "feedback_scale": _number(0, 100, low_open=True),
    "mezo_epsilon": _number(0, 1, low_open=True),
    "fgrad_perturbation": _choice(config_module.FGRAD_PERTURBATIONS),
    "fgrad_samples": _integer(1, 1024),
    "mezo_samples": _integer(1, 1024),
    "memory_only": BOOLEAN,
    "memory_warmup": _integer(0, 10_000),
    "memory_steps": _integer(1, 100),
    "checkpoint_every": _integer(0, 100_000, optional=True),
    "checkpoint_steps": _integer(0, INT32_MAX, optional=True),
    "update_every": _integer(1, INT32_MAX),
    "segment_size": _integer(1, INT32_MAX, optional=True),
    "keep_checkpoints": _integer(1, 100_000, optional=True),
    "memory_check": BOOLEAN,
    "checkpoint_plan": PLAN,
    "memory_budget": MEMORY_SIZE,
    "budget_profile": PATH,
    "save_model": BOOLEAN,
    "save_model_path": PATH,
    "restore_model": BOOLEAN,
    "restore_model_path": PATH,
    "synthetic_shape": (st.one_of(SHAPE_GOOD, SHAPE_GOOD.map(tuple)), SHAPE_BAD, list),
    "synthetic_classes": _integer(2, 100_000),
    "synthetic_size": _integer(1, 10**7),
    "context_length": _integer(2, 65_536),
}

GOOD_NETWORKS = st.fixed_dictionaries({}, optional={key: good for key, (good, _, _) in SPEC.items()}).map(
    _one_placement)
# A key nobody defined: random text, or a typo of a real key (one letter dropped, doubled or swapped).
TYPOS = st.sampled_from(FIELDS).flatmap(lambda key: st.integers(0, len(key) - 2).flatmap(lambda i: st.sampled_from([
    key[:i] + key[i + 1:], key[:i] + key[i] + key[i:], key[:i] + key[i + 1] + key[i] + key[i + 2:]])))
UNKNOWN_KEYS = st.one_of(TYPOS, st.text(max_size=12), st.integers(), st.none()).filter(lambda k: k not in FIELDS)


def test_the_spec_covers_every_key():
    assert sorted(SPEC) == sorted(FIELDS)


@PROPERTY
@given(GOOD_NETWORKS)
def test_a_network_dict_of_good_values_validates_to_those_values(network):
    config = validate(network)
    values = config.to_dict()
    for key, value in network.items():
        assert values[key] == SPEC[key][2](value), key
    for key in set(FIELDS) - set(network):
        assert values[key] == DEFAULTS[key], key
    assert validate(json.loads(json.dumps(values))) == config


@pytest.mark.parametrize("key", FIELDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network=GOOD_NETWORKS, data=st.data())
def test_one_bad_value_is_a_config_error_naming_its_key(key, network, data):
    value = data.draw(SPEC[key][1], label=key)
    with pytest.raises(ConfigError) as error:
        validate({**network, key: value})
    message = str(error.value)
    assert _names(message, key) and "\n" not in message, message


@PROPERTY
@given(GOOD_NETWORKS, UNKNOWN_KEYS, JUNK)
def test_an_unknown_key_is_a_config_error_naming_it(network, key, value):
    with pytest.raises(ConfigError, match="^unknown config key") as error:
        validate({**network, key: value})
    message = str(error.value)
    assert f"unknown config key {key!r}" in message, message
    meant = [field for field in FIELDS if isinstance(key, str) and key in _deletions(field)]
    if meant:  # one letter dropped: the key it came from is the closest
        assert f"(did you mean {message.split(chr(39))[-2]!r}?)" in message and message.split("'")[-2] in meant, message


def _deletions(field):
    return {field[:i] + field[i + 1:] for i in range(len(field))}


def _names(message, key):
    """The message names the key (a sequence name that is not one says `unknown sequence ...`)."""
    return repr(key) in message or message.startswith(f"unknown {key} ")


@PROPERTY
@given(st.one_of(JUNK.filter(lambda v: not isinstance(v, dict)),
                 st.tuples(st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=3), UNKNOWN_KEYS, JUNK)
                 .map(lambda parts: {**parts[0], parts[1]: parts[2]})))
def test_anything_that_is_not_a_dict_of_known_keys_is_a_config_error(value):
    with pytest.raises(ConfigError) as error:
        validate(value)
    message = str(error.value)
    if not isinstance(value, dict):
        assert message.startswith("a network must be a dict"), message
    else:  # a bad value of a key that comes first may be reported first: either way a key is named
        assert any(_names(message, key) for key in value), message


ANY_DICT = st.tuples(
    st.fixed_dictionaries({}, optional={key: st.one_of(good, bad, JUNK) for key, (good, bad, _) in SPEC.items()}),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), UNKNOWN_KEYS), JUNK, max_size=2)).map(lambda p: {**p[0], **p[1]})


@PROPERTY
@given(st.one_of(ANY_DICT, ANY_DICT, JUNK))
def test_any_network_dict_gives_a_config_or_a_config_error_never_another_exception(network):
    try:
        config = validate(network)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and message  # one readable line
        assert not isinstance(network, dict) or any(_names(message, key) for key in network), message
        return
    assert validate(json.loads(json.dumps(config.to_dict()))) == config


KNOWN_NAMES = {"network": network_names(), "sequence": sequence_names()}
LOOK_UPS = {"network": get_network, "sequence": get_sequence}


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(KNOWN_NAMES)).flatmap(lambda kind: st.tuples(st.just(kind), st.sampled_from(KNOWN_NAMES[kind]))))
def test_a_known_name_gives_its_network_or_sequence(kind_and_name):
    kind, name = kind_and_name
    found = LOOK_UPS[kind](name)
    if kind == "network":
        assert found == getattr(networks, name) and found is not getattr(networks, name)  # a copy to change
    else:
        assert found is getattr(sequences, name)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(KNOWN_NAMES)),
       st.one_of(st.text(max_size=20), st.sampled_from(network_names() + sequence_names()).map(lambda n: n[:-1] + "X")))
def test_an_unknown_name_is_a_config_error_naming_it(kind, name):
    assume(name not in KNOWN_NAMES[kind])
    with pytest.raises(ConfigError, match=f"^unknown {kind} ") as error:
        LOOK_UPS[kind](name)
    assert repr(name) in str(error.value)


CONFIG_FILES = {
    "good": GOOD_NETWORKS.map(lambda n: json.dumps(n)),
    # A file cut short (a crash mid-write by another tool): a strict prefix of an object is never JSON.
    "truncated": GOOD_NETWORKS.map(json.dumps).flatmap(lambda text: st.integers(0, len(text) - 1).map(lambda n: text[:n])),
    "bad value": st.tuples(GOOD_NETWORKS, st.sampled_from(FIELDS).flatmap(lambda k: st.tuples(st.just(k), SPEC[k][1])))
    .map(lambda p: json.dumps({**p[0], p[1][0]: p[1][1]})),
    "unknown key": st.tuples(GOOD_NETWORKS, TYPOS.filter(lambda k: k not in FIELDS)).map(lambda p: json.dumps({**p[0], p[1]: 1})),
    "not a dict": JUNK.filter(lambda v: not isinstance(v, dict)).map(json.dumps),
}


@pytest.mark.parametrize("kind", sorted(CONFIG_FILES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_config_json_is_a_config_error_on_resume(tmp_path, kind, data):
    from training.run_dir import read_config
    text = data.draw(CONFIG_FILES[kind], label=kind)
    (tmp_path / "config.json").write_text(text)
    if kind == "good":
        assert read_config(str(tmp_path)) == validate(json.loads(text))
        return
    with pytest.raises(ConfigError) as error:
        read_config(str(tmp_path))
    assert "config.json" in str(error.value) and "\n" not in str(error.value)
