import dataclasses

import pytest

from definitions.config import NetworkConfig, validate
from definitions.errors import ConfigError
from definitions.registry import get_network, network_names


def test_unknown_key_names_the_closest_valid_one():
    with pytest.raises(ConfigError, match=r"'learning_reate'.*did you mean 'learning_rate'"):
        validate({"learning_reate": 0.01})


@pytest.mark.parametrize("key,value,message", [
    ("batch_size", -5, r"'batch_size' must be an integer in \[1, 2147483647\], got -5"),
    ("batch_size", "10", r"'batch_size' must be an integer"),
    ("learning_rate", 0, r"'learning_rate' must be a number in \(0, 10\]"),
    ("epochs", 2.5, r"'epochs' must be an integer"),
    ("type", "DFX", r"'type' must be one of .*did you mean 'DFA'"),
    ("sequence", "lon_fc", r"unknown sequence 'lon_fc' \(did you mean 'long_fc'\?\)"),
    ("minimum_accuracy", [(1, 120)], r"'minimum_accuracy'"),
    ("gather_stats", "maybe", r"'gather_stats' must be true or false"),
    ("checkpoint_plan", "2,2", r"'checkpoint_plan' must be null or segment lengths joined by '\|'"),
    ("checkpoint_plan", 0, r"'checkpoint_plan' must be"),
])
def test_bad_values_are_named(key, value, message):
    with pytest.raises(ConfigError, match=message):
        validate({key: value})


def test_config_is_frozen_and_normalised():
    config = validate({"minimum_accuracy": [[2, 50]], "gather_stats": "yes", "learning_rate": 1})
    assert config.minimum_accuracy == ((2, 50.0),) and config.gather_stats is True
    assert isinstance(config.learning_rate, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3


def test_replace_revalidates():
    config = validate({})
    assert config.replace(epochs=2).epochs == 2
    with pytest.raises(ConfigError):
        config.replace(epochs=0)


@pytest.mark.parametrize("name", network_names())
def test_every_network_dict_is_valid(name):
    config = validate(dict(get_network(name), name=name))
    assert isinstance(config, NetworkConfig) and config.name == name


def test_networks_extend_each_other():
    assert get_network("vgg_16_DFA")["type"] == "DFA"
    assert get_network("vgg_16_DFA")["dataset_name"] == get_network("liao_network")["dataset_name"] == "cifar10"
    assert get_network("default_network")["dataset_name"] == "digits"


def test_to_dict_roundtrips():
    config = validate({"minimum_accuracy": [(1, 10)], "synthetic_shape": [4, 4, 3]})
    assert validate(config.to_dict()) == config


def test_a_checkpoint_plan_is_kept_as_written_and_an_integer_is_one_segment():
    assert validate({"checkpoint_plan": " (2|2) | 4"}).checkpoint_plan == " (2|2) | 4"
    assert validate({"checkpoint_plan": 12}).checkpoint_plan == "12"  # --set checkpoint_plan=12 reads JSON
    assert validate({}).checkpoint_plan is None


def test_segment_size_and_checkpoint_plan_together_are_an_error_naming_both():
    with pytest.raises(ConfigError, match=r"'segment_size' \(2\) and 'checkpoint_plan' \('2\|2'\)") as error:
        validate({"type": "BPCKPT", "segment_size": 2, "checkpoint_plan": "2|2"})
    assert "\n" not in str(error.value)
    assert validate({"segment_size": 2, "checkpoint_plan": None}).segment_size == 2
