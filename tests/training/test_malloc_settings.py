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

# Rounds of a step's pattern: `count` tensors of `mib` MiB alive together, then all freed, in the
# main thread or in one worker thread (whose mallocs go to a thread arena). Minor page faults per
# round, counted after three rounds of warm-up, in a fresh process (mallopt is process-wide).
ROUNDS_SCRIPT = """
import ctypes, json, resource, sys, threading
from training.malloc_settings import keep_freed_memory
said = keep_freed_memory()
count, mib, where = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# malloc itself, as TensorFlow's CPU allocator calls it (numpy asks for huge pages for large arrays)
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]

def rounds():
    def one_round():
        blocks = [libc.malloc(mib * 2**20) for _ in range(count)]
        for block in blocks:
            ctypes.memset(block, 1, mib * 2**20)
        for block in blocks:
            libc.free(block)

    for _ in range(3):
        one_round()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        one_round()
    rounds.faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20

if where == "thread":
    worker = threading.Thread(target=rounds)
    worker.start()
    worker.join()
else:
    rounds()
print(json.dumps({"said": said, "faults": rounds.faults}))
"""


def _faults_per_round(choice, count, mib, where):
    done = subprocess.run([sys.executable, "-c", ROUNDS_SCRIPT, str(count), str(mib), where], env=environment_for(choice),
                          cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("count, mib, where", [
    (10, 1, "main"),  # a BP step's weight gradients (30 x 1 MiB on long_fc_30)
    (3, 24, "thread"),  # more than one 64 MiB heap of a worker's arena: a heap made and dropped each round
])
def test_kept_memory_is_not_faulted_in_again_each_round(count, mib, where):
    default, kept = _faults_per_round(DEFAULT, count, mib, where), _faults_per_round("keep", count, mib, where)
    pages_per_round = count * mib * 2**20 // os.sysconf("SC_PAGE_SIZE")
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
