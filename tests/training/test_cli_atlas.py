"""What `experiment` and `experiment plan` say about a rule that refuses a network: FGRAD on a
convolution is one `Error:` line with exit 2 (nothing made), and the default `plan --types` leaves
it out with a line while an explicit `--types FGRAD` is the error."""
from click.testing import CliRunner

from training.cli import main

CONV = ["--sequence", "liao_mnist_bn", "--dataset_name", "synthetic", "--set", "synthetic_shape=[8, 8, 1]",
        "--set", "synthetic_classes=4", "--batch_size", "8"]
MESSAGE = "FGRAD computes forward gradients of dense layers"


def test_fgrad_on_a_convolution_is_one_error_line(tmp_path):
    result = CliRunner().invoke(main, ["--type", "FGRAD", *CONV, "--output_dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and MESSAGE in lines[0] and "ConvolutionalLayer" in lines[0]
    assert not any(tmp_path.iterdir())


def test_plan_leaves_a_refusing_type_out_of_its_default_types():
    result = CliRunner().invoke(main, ["plan", *CONV])
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.output.splitlines() if line.split() and line.split()[0].isupper()]
    assert "MEZO" in rows and "USF" in rows and "FGRAD" not in rows
    assert result.output.strip().splitlines()[-1].startswith(f"FGRAD: not predicted: {MESSAGE}")


def test_plan_of_fgrad_named_on_a_convolution_is_the_error():
    result = CliRunner().invoke(main, ["plan", "--types", "FGRAD", *CONV])
    assert result.exit_code == 2 and result.output.strip().startswith(f"Error: {MESSAGE}")
