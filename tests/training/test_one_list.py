"""One list per fact: the algorithms and cost functions are keyed by definitions/config.py's lists."""
import subprocess
import sys

from definitions import config
from training.algorithms import ALGORITHMS
from training.losses import COST_FUNCTIONS


def test_the_implementations_follow_the_config_lists():
    assert list(ALGORITHMS) == list(config.TRAINING_TYPES)
    assert all(cls.name == name for name, cls in ALGORITHMS.items())
    assert list(COST_FUNCTIONS) == list(config.COST_FUNCTIONS)
    assert all(function.__name__ == name for name, function in COST_FUNCTIONS.items())


def test_a_listed_name_without_an_implementation_stops_the_import():
    # A fresh process: the lists are read when training.algorithms and training.losses are imported.
    code = """
import definitions.config as config
config.TRAINING_TYPES += ("EP",)
config.COST_FUNCTIONS += ("hinge",)
for module in ("training.losses", "training.algorithms"):
    try:
        __import__(module)
    except RuntimeError as error:
        print(module, error)
"""
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "training.losses the cost functions do not match" in output and "['hinge']" in output, output
    assert "training.algorithms the algorithms do not match" in output and "['EP']" in output, output
