import os
import shutil
import tempfile

import pytest

# Quiet TensorFlow's C++ logging in test output; must be set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def own_registry(monkeypatch):
    """A test that loads users' files (`--definitions`) loads them into an empty registry: no name of
    theirs leaks into another test's lists of names."""
    from definitions import registry
    monkeypatch.setattr(registry, "_loaded", registry._Loaded())


def pytest_report_header(config):
    """Which kernel family this run tests (`make test` runs the kernel-dependent tests under both)."""
    from training.kernels import kernel_family
    return f"kernels: {kernel_family()}"


def pytest_configure(config):
    """Measured kernels are cached under $XDG_CACHE_HOME (training/kernel_cache.py): the tests use
    a cache of their own, empty at the start, gone at the end, inherited by the CLIs they start."""
    config.kernel_cache = tempfile.mkdtemp(prefix="zppmem-test-cache-")
    os.environ["XDG_CACHE_HOME"] = config.kernel_cache


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "kernel_cache", ""), ignore_errors=True)
