"""Loaders on tiny files written in exactly the formats keras caches."""
import os
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from definitions import datasets
from definitions.errors import DatasetError


def _config(name, **extra):
    return SimpleNamespace(dataset_name=name, seed=3, synthetic_shape=(4, 4, 2), synthetic_classes=3,
                           synthetic_size=30, **extra)


def test_digits_split_shape_and_scale():
    data = datasets.load_digits()
    assert data.x_train.shape == (1437, 8, 8, 1) and data.x_test.shape == (360, 8, 8, 1)
    assert data.x_train.dtype == np.float32 and 0 <= data.x_train.min() and data.x_train.max() == 1.0
    # Stratified: every class has its share of the test split.
    assert np.bincount(data.y_test).min() >= 35
    again = datasets.load_digits()
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_mnist_npz(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
             y_train=np.arange(6, dtype=np.uint8), x_test=np.full((2, 28, 28), 255, np.uint8),
             y_test=np.array([3, 4], np.uint8))
    data = datasets.load_dataset(_config("mnist"), data_dir=str(tmp_path))
    assert data.x_train.shape == (6, 28, 28, 1) and data.input_shape == (28, 28, 1)
    assert data.x_test.max() == 1.0 and list(data.y_test) == [3, 4] and data.num_classes == 10


def _write_cifar_batch(path, count, label_key, rng):
    pixels = rng.integers(0, 256, (count, 3 * 32 * 32), dtype=np.uint8)
    with open(path, "wb") as handle:
        pickle.dump({b"data": pixels, label_key: list(range(count))}, handle)
    return pixels


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    first = _write_cifar_batch(folder / "data_batch_1", 3, b"labels", rng)
    for i in range(2, 6):
        _write_cifar_batch(folder / f"data_batch_{i}", 3, b"labels", rng)
    _write_cifar_batch(folder / "test_batch", 2, b"labels", rng)
    data = datasets.load_dataset(_config("cifar10"), data_dir=str(tmp_path))
    assert data.x_train.shape == (15, 32, 32, 3) and data.x_test.shape == (2, 32, 32, 3)
    # Channel-first rows become NHWC: pixel (0, 0) of image 0 has channels at offsets 0, 1024, 2048.
    np.testing.assert_allclose(data.x_train[0, 0, 0], first[0, [0, 1024, 2048]] / 255.0)


def test_cifar100_fine_labels(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _write_cifar_batch(folder / "train", 4, b"fine_labels", rng)
    _write_cifar_batch(folder / "test", 2, b"fine_labels", rng)
    data = datasets.load_dataset(_config("cifar100"), data_dir=str(tmp_path))
    assert data.num_classes == 100 and data.x_train.shape == (4, 32, 32, 3)


def test_missing_file_offline_says_where_and_how(tmp_path, monkeypatch):
    def offline(**kwargs):
        raise OSError("network unreachable")
    import keras.utils
    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(DatasetError) as error:
        datasets.load_dataset(_config("mnist"), data_dir=str(tmp_path))
    message = str(error.value)
    assert os.path.join(str(tmp_path), "mnist.npz") in message and "--data_dir" in message
    assert "keras.datasets.mnist.load_data()" in message


def test_corrupted_file_is_a_dataset_error(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="cannot read MNIST"):
        datasets.load_dataset(_config("mnist"), data_dir=str(tmp_path))


def test_synthetic_is_deterministic_and_shaped():
    a = datasets.load_dataset(_config("synthetic"))
    b = datasets.load_dataset(_config("synthetic"))
    assert a.x_train.shape == (30, 4, 4, 2) and a.num_classes == 3
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
