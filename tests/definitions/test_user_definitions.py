"""A researcher's own sequences and networks, outside the package: `--definitions FILE` and
`sequence: "module:function"`. In process, through the real commands; the run and --resume of a
user's network are in tests/training/test_cli_definitions.py."""
import csv
import os
import sys
import textwrap

import pytest
from click.testing import CliRunner

from definitions import registry
from definitions.config import validate
from definitions.errors import ConfigError
from training.cli import main

MY_NETS = """\
from definitions.networks import default_network
from definitions.sequences import fcTanh
from layers import FullyConnected, Tanh


def narrow_mlp(output_size, width=32):
    return [FullyConnected(width, flatten=True), Tanh(), FullyConnected(output_size)]


def tanh_copy(output_size):
    return [FullyConnected(256, flatten=True), Tanh(), FullyConnected(256), Tanh(), FullyConnected(output_size)]


def _hidden(width):
    return [FullyConnected(width), Tanh()]


def widths(count):
    return [count] * 2


my_network = dict(default_network)
my_network.update({"sequence": "narrow_mlp", "epochs": 2})

same_as_default = dict(default_network, sequence="tanh_copy")
"""


pytestmark = pytest.mark.usefixtures("own_registry")  # tests/conftest.py


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


def experiment(*args):
    return CliRunner().invoke(main, list(args))


def one_error(result):
    """The single `Error:` line of a refused command (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_list_shows_where_each_name_comes_from(tmp_path):
    path = write(tmp_path / "my_nets.py", MY_NETS)
    result = experiment("--definitions", path, "--list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Functions of output_size are sequences, public dicts networks; helpers, functions of something
    # else and the shipped names the file imports are not the file's.
    assert f"networks from {path}: my_network, same_as_default" in lines
    assert f"sequences from {path}: narrow_mlp, tanh_copy" in lines
    shipped = next(line for line in lines if line.startswith("networks: "))
    assert "default_network" in shipped and "my_network" not in shipped
    assert not [line for line in lines if "_hidden" in line or "widths" in line]


def test_a_users_network_predicts_what_the_same_shipped_network_does(tmp_path):
    """`same_as_default` is default_network with the file's copy of fcTanh: the same bytes, whatever the names."""
    path = write(tmp_path / "my_nets.py", MY_NETS)
    rows = {}
    for name, extra in (("same_as_default", ["--definitions", path]), ("default_network", [])):
        out = tmp_path / f"{name}.csv"
        result = experiment("plan", *extra, "--name", name, "--types", "BP,DFA", "--csv", str(out))
        assert result.exit_code == 0, result.output
        rows[name] = [{key: value for key, value in row.items() if key not in ("network", "sequence")}
                      for row in csv.DictReader(open(out))]
    assert rows["same_as_default"] == rows["default_network"] and len(rows["default_network"]) == 2


@pytest.mark.parametrize("text,line,message", [
    ("def fcTanh(output_size):\n    return []\n", 1,
     "sequence 'fcTanh' is the name of a shipped sequence: give yours another name"),
    ("from definitions.networks import default_network\n\nvgg_16 = dict(default_network)\n", 3,
     "network 'vgg_16' is the name of a shipped network: give yours another name"),
])
def test_a_shipped_name_is_refused(tmp_path, text, line, message):
    path = write(tmp_path / "clash.py", text)
    assert one_error(experiment("--definitions", path, "--list")) == f"Error: {path}:{line}: {message}"


def test_two_files_defining_one_name_are_refused_and_neither_stays_loaded(tmp_path):
    first = write(tmp_path / "first.py", MY_NETS)
    second = write(tmp_path / "second.py", "mine = {}\n\n\ndef narrow_mlp(output_size):\n    return []\n")
    error = one_error(experiment("--definitions", first, "--definitions", second, "--list"))
    assert error == f"Error: {second}:4: sequence 'narrow_mlp' is defined in {first} too: give one of them another name"
    assert "my_network" not in registry.network_names() and "mine" not in registry.network_names()


@pytest.mark.parametrize("text,expected", [
    ("x = 1\n\ndef broken(:\n    pass\n", "3: SyntaxError: "),
    ("from layers import FullyConnected\n\nscale = 1\nwidth = 10 // (scale - 1)\n",
     "4: ZeroDivisionError: integer division or modulo by zero"),
    ("import numpy\nimport no_such_module_here\n", "2: ModuleNotFoundError: No module named 'no_such_module_here'"),
    ("import sys\n\n\nsys.exit(3)\n", "4: SystemExit: 3"),
])
def test_an_error_in_the_file_is_one_line_naming_the_file_and_line(tmp_path, text, expected):
    path = write(tmp_path / "broken.py", text)
    assert one_error(experiment("--definitions", path, "--name", "default_network")).startswith(
        f"Error: {path}:{expected}")


def test_a_network_that_fails_validation_names_the_line_of_its_key_and_the_closest_key(tmp_path):
    path = write(tmp_path / "typo.py", """\
        from definitions.networks import default_network

        fine = dict(default_network)

        typo = dict(default_network)
        typo.update({
            "sequence": "fcTanh",
            "learning_rat": 0.1,
        })
        """)
    assert one_error(experiment("--definitions", path, "--name", "fine")) == (
        f"Error: {path}:8: network 'typo': unknown config key 'learning_rat' (did you mean 'learning_rate'?)")


def test_a_sequence_the_file_does_not_have_is_named_like_any_unknown_sequence(tmp_path):
    path = write(tmp_path / "seq.py", "mine = {'sequence': 'narow_mlp'}\n\n\n"
                                      "def narrow_mlp(output_size):\n    return []\n")
    assert one_error(experiment("--definitions", path, "--list")).startswith(
        f"Error: {path}:1: network 'mine': unknown sequence 'narow_mlp' (did you mean 'narrow_mlp'?)")


def test_changing_a_shipped_network_in_place_is_refused_and_undone(tmp_path):
    path = write(tmp_path / "alias.py", """\
        from definitions.networks import default_network

        mine = default_network  # not a copy
        mine.update({"epochs": 99})
        """)
    error = one_error(experiment("--definitions", path, "--list"))
    assert error == (f"Error: {path}: changes the shipped network 'default_network' in place: "
                     f"start from a copy, dict(default_network)")
    assert registry.get_network("default_network")["epochs"] == 10


def test_a_relative_path_is_recorded_absolute(tmp_path, monkeypatch):
    write(tmp_path / "my_nets.py", MY_NETS)
    monkeypatch.chdir(tmp_path)
    config = validate({"definitions": ["my_nets.py", "./my_nets.py"], "sequence": "narrow_mlp"})
    assert config.definitions == (str(tmp_path / "my_nets.py"),)
    assert config.to_dict()["definitions"] == [str(tmp_path / "my_nets.py")]


# -- sequence: "module:function" ---------------------------------------------------------------------

@pytest.fixture
def package(tmp_path, monkeypatch):
    """An importable package `zppmem_test_nets` with a module `nets`, on sys.path for this test."""
    root = tmp_path / "importable"
    (root / "zppmem_test_nets").mkdir(parents=True)
    (root / "zppmem_test_nets" / "__init__.py").write_text("")
    write(root / "zppmem_test_nets" / "nets.py", """\
        from layers import FullyConnected, ReLu


        def wide_mlp(output_size):
            return [FullyConnected(64, flatten=True), ReLu(), FullyConnected(output_size)]
        """)
    write(root / "zppmem_test_nets" / "broken.py", "import os\n\nvalue = 1 / 0\n")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [name for name in sys.modules if name.startswith("zppmem_test_nets")]:
        del sys.modules[name]


def test_a_dotted_sequence_is_the_modules_function(package):
    from zppmem_test_nets.nets import wide_mlp
    assert validate({"sequence": "zppmem_test_nets.nets:wide_mlp"}).sequence == "zppmem_test_nets.nets:wide_mlp"
    assert registry.get_sequence("zppmem_test_nets.nets:wide_mlp") is wide_mlp


def test_a_dotted_sequence_runs_and_is_listed_with_its_module(package, tmp_path):
    path = write(tmp_path / "uses_module.py", "wide = {'sequence': 'zppmem_test_nets.nets:wide_mlp', 'epochs': 1}\n")
    result = experiment("--definitions", path, "--list")
    assert "sequences from module zppmem_test_nets.nets: zppmem_test_nets.nets:wide_mlp" in result.output.splitlines()
    result = experiment("--set", "sequence=zppmem_test_nets.nets:wide_mlp", "--epochs", "1", "--checkpoint_every", "1",
                        "--set", "eval_period=0", "--output_dir", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    import tensorflow as tf
    checkpoint = str(tmp_path / "runs" / "default_network_BP_001" / "checkpoints" / "epoch_1" / "model.ckpt")
    kernels = sorted(shape for name, shape in tf.train.list_variables(checkpoint)
                     if name.startswith("model/") and name.endswith("/kernel"))
    assert kernels == [[64, 10], [64, 64]]  # digits: 8x8 inputs, 10 classes; the module's widths


@pytest.mark.parametrize("sequence,message", [
    ("zppmem_test_nets.nets:wide_mpl", "module 'zppmem_test_nets.nets' has no function 'wide_mpl' "
                                       "(did you mean 'wide_mlp'?)"),
    ("zppmem_test_nets.nope:wide_mlp", "no module named 'zppmem_test_nets.nope' (is its directory on PYTHONPATH?)"),
    ("zppmem_test_nets.broken:f", "broken.py:3: ZeroDivisionError: division by zero"),
    ("zppmem_test_nets/nets.py:wide_mlp", "write a function of an importable module as 'package.module:function'"),
])
def test_a_bad_dotted_sequence_is_one_clear_error(package, sequence, message):
    with pytest.raises(ConfigError) as error:
        validate({"sequence": sequence})
    assert str(error.value).startswith(f"unknown sequence {sequence!r}: ") and str(error.value).endswith(message)


def test_the_readmes_example_file_defines_what_it_says(tmp_path):
    readme = open(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "README.md"), encoding="utf-8").read()
    [example] = [block for block in readme.split("```python\n")[1:] if block.startswith("# my_nets.py")]
    path = write(tmp_path / "my_nets.py", example.split("```")[0])
    result = experiment("--definitions", path, "--list")
    assert result.exit_code == 0, result.output
    assert f"networks from {path}: my_network" in result.output.splitlines()
    assert f"sequences from {path}: wide_mlp" in result.output.splitlines()
    config = validate(dict(registry.get_network("my_network"), definitions=[path]))
    assert (config.sequence, config.learning_rate, config.epochs) == ("wide_mlp", 0.005, 5)
