"""planning/layers.py's hand-written rules stay because they equal the measurement on the kernels
they were written from.

The rules are the memory model planning/ uses without TensorFlow (its own unit tests,
`kernels=None`); every prediction a user sees replays measured kernels. The rules were written
from Eigen's CPU kernels, so on Eigen they must predict what the probe measures: every type on
test_model's networks, within one small buffer. The measurement runs in a process of its own with
TF_ENABLE_ONEDNN_OPTS=0, so this holds on any x86 machine whatever family this process runs.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def eigen_rows():
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "tests.planning.eigen_rules_probe"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["library"] == "Eigen"
    return result["rows"]


def test_the_rules_are_the_measurement_on_eigen(eigen_rows):
    # 13 types on 4 networks, less PEPITA and FGRAD on the 3 that are not dense; then the batch-norm
    # network's types twice more (fused at a large batch, unfused).
    batch_norm_types = sum(name == "batch_norm" for name, *_ in eigen_rows)
    assert len(eigen_rows) == 4 * 13 - 3 - 3 + 2 * batch_norm_types
    off = [(name, kind, rules, measured) for name, kind, rules, measured in eigen_rows
           if abs(rules / measured - 1) > TOLERANCE]
    assert not off, f"planning/layers.py differs from Eigen's measured kernels: {off}"
