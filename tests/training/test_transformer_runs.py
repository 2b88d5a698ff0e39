"""A transformer run end to end: DFA learns synthetic_tokens above chance; shapes that do not fit are one error."""
import json
import math
import os
import re

import pytest

from definitions.errors import ConfigError
from definitions.networks import transformer_tiny
from training.run import resolve_config, run_experiment

SMALL = {"context_length": 8, "synthetic_size": 1024, "epochs": 3, "learning_rate": 0.003, "seed": 2}


def test_dfa_learns_synthetic_tokens_above_chance(tmp_path):
    config = resolve_config(dict(transformer_tiny), "transformer_tiny", {**SMALL, "type": "DFA"})
    lines = []
    run_dir, result = run_experiment(config, str(tmp_path), log=lines.append)
    assert re.fullmatch(r"finished epoch 3, accuracy: \d+\.\d\d%, loss: (\d+\.\d{4}) "
                        r"\(\1 nats, \d+\.\d{4} bits per token\)", lines[-1]), lines[-1]
    chance = 100 / config.synthetic_classes
    assert result["accuracy"] > 4 * chance, result  # next-token accuracy over every position (48% seen)
    saved = json.load(open(os.path.join(run_dir, "result.json")))
    assert math.isclose(saved["loss_bits"], saved["loss"] / math.log(2)) and saved["loss_nats"] == saved["loss"]


def test_a_window_longer_than_the_context_names_the_layer():
    with pytest.raises(ConfigError, match=r"layer 2: PositionEmbedding\(64\).*\(batch, 65, 64\).*max_length 64"):
        from training.run import _prepare
        _prepare(resolve_config(dict(transformer_tiny), "transformer_tiny", {**SMALL, "context_length": 65}),
                 None, lambda line: None, None)
