"""Bad input in a user's sequence: exit code 2, one line naming the sequence, the layer and the shapes.

The sequences are in a file of the user's, given with --definitions, as a user adds one.
"""
import pytest
from click.testing import CliRunner

from training.cli import main

USER_SEQUENCES = """\
from layers import ConvolutionalLayer, FullyConnected, MaxPool, ReLu


def bad_setting(output_size):
    return [FullyConnected(-3), ReLu(), FullyConnected(output_size)]


def misspelt_keyword(output_size):
    return [FullyConnected(16, flaten=True), FullyConnected(output_size)]


def class_not_layer(output_size):
    return [FullyConnected(16, flatten=True), ReLu, FullyConnected(output_size)]


def pool_too_big(output_size):
    return [ConvolutionalLayer(3, 4), MaxPool(9, padding="VALID"), FullyConnected(output_size, flatten=True)]


def wrong_output(output_size):
    return [FullyConnected(16, flatten=True), ReLu(), FullyConnected(output_size + 2)]


def image_output(output_size):
    return [ConvolutionalLayer(3, output_size)]


def no_layers(output_size):
    return []


calls = []


def counted(output_size):
    calls.append(output_size)
    return [FullyConnected(8, flatten=True), ReLu(), FullyConnected(output_size)]
"""


@pytest.fixture
def user_sequences(tmp_path, own_registry):
    """`--definitions FILE` of the sequences above."""
    path = tmp_path / "user_sequences.py"
    path.write_text(USER_SEQUENCES)
    return ["--definitions", str(path)]


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
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [*user_sequences, *args, "--epochs", "1", "--output_dir", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert not out.exists()  # the run directory is never created


def test_a_run_builds_and_checks_its_sequence_once(user_sequences, tmp_path):
    # Checking the shapes in a scratch graph and then building the run's graph built every layer
    # twice (about 1.5 s more for resnet_152): the check is now the build itself.
    result = CliRunner().invoke(main, [*user_sequences, "--sequence", "counted", "--dataset_name", "synthetic",
                                       "--set", "synthetic_size=20", "--epochs", "1",
                                       "--output_dir", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    from definitions.registry import get_sequence
    assert get_sequence("counted").__globals__["calls"] == [10]  # the list of the user's file
