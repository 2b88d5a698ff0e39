"""A sweep over a network of the user's own file: `--definitions` rides in the tuner's prefix, and
each run records the file's absolute path. One real one-epoch run on digits."""
import json
import os
import shlex
import sys

from click.testing import CliRunner

from tests.tuner.conftest import REPO, runs_line
from tuner.cli import main

MY_NETS = """\
from definitions.networks import default_network
from layers import FullyConnected, Tanh


def narrow_mlp(output_size):
    return [FullyConnected(32, flatten=True), Tanh(), FullyConnected(output_size)]


my_network = dict(default_network, sequence="narrow_mlp", eval_period=0)
"""


def test_the_prefix_carries_definitions_to_every_run(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(MY_NETS)
    monkeypatch.chdir(tmp_path)  # the relative path is the launch directory's, as a user types it
    prefix = shlex.join([sys.executable, os.path.join(REPO, "experiment.py"), "--definitions", "my_nets.py",
                         "--name", "my_network"])
    result = CliRunner().invoke(main, ["run", "--prefix", prefix, "--grid", "epochs=1", "--grid", "type=DFA",
                                       "--output", "sweep"], catch_exceptions=False)
    assert runs_line(result.output) == "runs: 1 total, 1 completed now, 0 skipped (already complete), 0 failed", \
        result.output
    [run_id] = [name for name in os.listdir("sweep") if os.path.isdir(os.path.join("sweep", name)) and not name.startswith(".")]
    config = json.loads((tmp_path / "sweep" / run_id / "my_network_DFA_001" / "config.json").read_text())
    assert (config["definitions"], config["sequence"], config["type"]) == \
        ([str(tmp_path / "my_nets.py")], "narrow_mlp", "DFA")
