"""Property tests: any network dict is either a valid config or a ConfigError, never a crash.

Network dicts come from users (networks.py, --set KEY=VALUE as JSON, a run's config.json on
--resume), so random keys and values of any JSON-ish type must give the project's own error
with a message naming the key, or a config that validates again to itself.
"""
import dataclasses
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions.config import NetworkConfig, validate
from definitions.errors import ConfigError, ZppMemError
from definitions.registry import get_network, get_sequence, network_names

FIELDS = [f.name for f in dataclasses.fields(NetworkConfig)]
DEFAULTS = NetworkConfig().to_dict()

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2, 200),
                    st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 20),
                    st.text(max_size=8), st.sampled_from(["BP", "DFA", "digits", "fcReLu", "sgd", "adam", "yes", "0"]))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.lists(inner, max_size=2).map(tuple),
                                                      st.dictionaries(st.text(max_size=4), inner, max_size=2)),
                    max_leaves=6)
# Mostly the default or a near miss of it, sometimes junk: every check is reached, and a good
# share of the dicts is valid, so both outcomes are exercised.
NEAR = {name: st.sampled_from([value, None, 0, -1, 1, "x", [value], 1e9]) for name, value in DEFAULTS.items()}
KEYS = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12),
                 st.sampled_from(["learning_reate", "epoch", "Seed", "batchsize"]))


def _value(name):
    default = DEFAULTS[name]
    return st.integers(0, 9).flatmap(lambda pick: JUNK if pick == 0 else NEAR[name] if pick == 1 else st.just(default))


NETWORKS = st.tuples(
    st.fixed_dictionaries({}, optional={name: _value(name) for name in FIELDS}),
    st.integers(0, 3).flatmap(lambda pick: st.dictionaries(KEYS, JUNK, min_size=1, max_size=3) if pick == 0
                              else st.just({})),
).map(lambda parts: {**parts[0], **parts[1]})

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(NETWORKS)
def test_random_network_dicts_validate_or_raise_config_error(network):
    try:
        config = validate(network)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and message  # one readable line
        named = [key for key in network if repr(key) in message or str(key) in message]
        assert named or message.startswith("unknown sequence"), message
        return
    # A config that validated is normalised: it validates to itself and survives JSON.
    assert validate(json.loads(json.dumps(config.to_dict()))) == config


@PROPERTY
@given(st.one_of(JUNK, st.lists(st.tuples(KEYS, JUNK), max_size=4).map(dict)))
def test_anything_that_is_not_a_dict_of_known_keys_is_a_config_error(value):
    try:
        validate(value)
    except ConfigError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=20), st.sampled_from(network_names())))
def test_random_names_are_a_network_or_a_config_error(name):
    for look_up in (get_network, get_sequence):
        try:
            look_up(name)
        except ConfigError as error:
            assert repr(name) in str(error)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(JUNK, NETWORKS))
def test_a_damaged_config_json_is_a_config_error_on_resume(tmp_path, content):
    from training.run_dir import read_config
    (tmp_path / "config.json").write_text(json.dumps(content))
    try:
        read_config(str(tmp_path))
    except ZppMemError as error:
        assert "config.json" in str(error)
