"""Bad input in a user's sequence: exit code 2, one line naming the sequence, the layer and the shapes.

The sequences are added to definitions.sequences for the test, as a user adds one.
"""
import pytest
from click.testing import CliRunner

from definitions import sequences
from layers import ConvolutionalLayer, FullyConnected, MaxPool, ReLu
from training.cli import main


def _sequence(name, function):
    function.__name__ = name
    function.__module__ = sequences.__name__  # the registry lists the module's own functions
    return function


USER_SEQUENCES = {
    "bad_setting": lambda n: [FullyConnected(-3), ReLu(), FullyConnected(n)],
    "misspelt_keyword": lambda n: [FullyConnected(16, flaten=True), FullyConnected(n)],
    "class_not_layer": lambda n: [FullyConnected(16, flatten=True), ReLu, FullyConnected(n)],
    "pool_too_big": lambda n: [ConvolutionalLayer(3, 4), MaxPool(9, padding="VALID"), FullyConnected(n, flatten=True)],
    "wrong_output": lambda n: [FullyConnected(16, flatten=True), ReLu(), FullyConnected(n + 2)],
    "image_output": lambda n: [ConvolutionalLayer(3, n)],
    "no_layers": lambda n: [],
}


@pytest.fixture
def user_sequences(monkeypatch):
    for name, function in USER_SEQUENCES.items():
        monkeypatch.setattr(sequences, name, _sequence(name, function), raising=False)


@pytest.mark.parametrize("args,message", [
    (["--sequence", "bad_setting"],
     "sequence 'bad_setting': FullyConnected: output_dim must be a positive integer, got -3"),
    (["--sequence", "misspelt_keyword"],
     "sequence 'misspelt_keyword' cannot be built: TypeError: FullyConnected.__init__() got an unexpected keyword "
     "argument 'flaten'"),
    (["--sequence", "class_not_layer"],
     "sequence 'class_not_layer', layer 2 is the class ReLu, not a layer: write ReLu(...)"),
    (["--sequence", "pool_too_big"],
     "sequence 'pool_too_big', layer 2: MaxPool(kernel_size=[9, 9], strides=[9, 9], padding='VALID'): a 9x9 window "
     "with VALID padding does not fit an input of shape (batch, 8, 8, 4)"),
    (["--sequence", "wrong_output"],
     "sequence 'wrong_output': its last layer FullyConnected(12) outputs shape (batch, 12), but the labels of digits "
     "have shape (batch, 10) (10 classes)"),
    (["--sequence", "image_output"],
     "sequence 'image_output': its last layer ConvolutionalLayer([3, 3], 10) outputs shape (batch, 8, 8, 10)"),
    (["--sequence", "no_layers"], "sequence 'no_layers' must return a non-empty list of layers, got []"),
    # A convolutional sequence on flat input: the synthetic dataset's shape is set to (16,).
    (["--sequence", "liao_mnist", "--dataset_name", "synthetic", "--set", "synthetic_shape=[16]"],
     "sequence 'liao_mnist', layer 1: ConvolutionalLayer([5, 5], 20): expects an image input (batch, height, width, "
     "channels) but got a rank-2 input of shape (batch, 16)"),
])
def test_bad_sequences_exit_2_with_one_line_before_anything_is_made(user_sequences, tmp_path, args, message):
    result = CliRunner().invoke(main, [*args, "--epochs", "1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert not any(tmp_path.iterdir())  # the run directory is never created


def test_a_run_builds_and_checks_its_sequence_once(monkeypatch, tmp_path):
    # Checking the shapes in a scratch graph and then building the run's graph built every layer
    # twice (about 1.5 s more for resnet_152): the check is now the build itself.
    calls = []

    def counted(output_size):
        calls.append(output_size)
        return [FullyConnected(8, flatten=True), ReLu(), FullyConnected(output_size)]

    monkeypatch.setattr(sequences, "counted", _sequence("counted", counted), raising=False)
    result = CliRunner().invoke(main, ["--sequence", "counted", "--dataset_name", "synthetic", "--set", "synthetic_size=20",
                                       "--epochs", "1", "--output_dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert calls == [10]
