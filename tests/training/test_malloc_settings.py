"""Freed memory kept in the process (training/malloc_settings.py): page faults counted, not assumed."""
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from training.cli import main
from training.malloc_settings import DEFAULT, ENV, GLIBC_VARIABLES, environment_for, keep_freed_memory

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A BP step's pattern: ten 1 MiB tensors alive together, then all freed. Minor page faults per
# round, counted after three rounds of warm-up, in a fresh process (mallopt is process-wide).
ROUNDS_SCRIPT = """
import json, resource
import numpy as np
from training.malloc_settings import keep_freed_memory
said = keep_freed_memory()

def one_round():
    arrays = [np.ones(2**18, np.float32) for _ in range(10)]
    del arrays

for _ in range(3):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    one_round()
print(json.dumps({"said": said, "faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20}))
"""


def _faults_per_round(choice):
    done = subprocess.run([sys.executable, "-c", ROUNDS_SCRIPT], env=environment_for(choice), cwd=REPO, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_kept_memory_is_not_faulted_in_again_each_round():
    default, kept = _faults_per_round(DEFAULT), _faults_per_round("keep")
    pages_per_round = 10 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    if default["faults"] < pages_per_round / 4:
        pytest.skip(f"this C library's defaults already keep the memory ({default['said']})")
    assert kept["said"].startswith("freed memory kept")
    assert kept["faults"] < pages_per_round / 20, (default, kept)


def test_glibc_settings_in_the_environment_win():
    for name in GLIBC_VARIABLES:
        assert name in keep_freed_memory({name: "1048576"})
    assert "GLIBC_TUNABLES" in keep_freed_memory({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})
    assert keep_freed_memory({ENV: "Default"}).endswith(f"({ENV}={DEFAULT})")


def test_an_unknown_choice_stops_the_run_before_it_starts(tmp_path):
    result = CliRunner().invoke(main, ["--epochs", "1", "--output_dir", str(tmp_path)], env={ENV: "kept"})
    assert result.exit_code == 2
    assert f"{ENV}='kept' is not one of: keep, default" in result.output
    assert not any(tmp_path.iterdir())
