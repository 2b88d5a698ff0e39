"""The budget planner's guarantee where kernels differ most: a conv net and a residual net.

At the smallest budget the planner says it can meet (the number its error names for a budget of
one byte), the planned run's traced total is within the budget, under each kernel family
(`make test` runs this under oneDNN and Eigen, whose convolution gradients differ by tens of MiB
of scratch), and not far below it: within 15% here (Eigen's two convolution gradients run side
by side in some steps and not in others, and the model holds both workspaces); the benchmark
(benchmarks.budget) reports how close, against its 5% target.
"""
import json
import re

import pytest
from click.testing import CliRunner

from training.cli import main

pytestmark = pytest.mark.kernels  # run under oneDNN and Eigen by `make test`

NETWORKS = {
    "conv": ["--sequence", "long_conv", "--set", "synthetic_shape=[12, 12, 3]", "--batch_size", "16"],
    "residual": ["--sequence", "resnet_18", "--set", "synthetic_shape=[8, 8, 3]", "--batch_size", "8"],
}
COMMON = ["--dataset_name", "synthetic", "--set", "synthetic_size=64", "--set", "synthetic_classes=10",
          "--epochs", "1", "--optimizer", "momentum", "--type", "BPCKPT", "--memory_only", "true"]


def invoke(tmp_path, network, run_id, *args):
    return CliRunner().invoke(main, [*COMMON, *NETWORKS[network], *args, "--output_dir", str(tmp_path),
                                     "--id", run_id])


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_at_the_smallest_feasible_budget_the_traced_total_fits_it_closely(tmp_path, network):
    refused = invoke(tmp_path, network, "too_small", "--memory_budget", "1")
    assert refused.exit_code == 2, refused.output
    smallest = int(re.search(r"exact gradients need at least [^(]+\((\d+) bytes\)", refused.output).group(1))
    result = invoke(tmp_path, network, "run", "--memory_budget", str(smallest))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "memory" / "summary.json").read_text())
    measured = summary["peak_bytes"] + summary["persistent_bytes"]
    assert measured <= smallest, (measured, smallest)
    assert measured >= 0.85 * smallest, (measured, smallest)
