"""Token datasets: windows of `context_length` token ids, labelled with the next token at each position.

Features are the ids as float32 (every dataset enters the graph through the same float32
placeholder; layers.Embedding casts them back), labels the ids that follow, as int64, one per
position: a model's output is (batch, time, vocabulary) and its loss is averaged over tokens.

`synthetic_tokens` is a counting task decided by the seed: each window starts at a random token
and steps by a random stride (mod the vocabulary), so every next token but the first follows
from the two before it, which the model must find by attending to earlier positions. Chance is
1/vocabulary; a model that has inferred the stride is right from the second position on.
"""
import numpy as np

#: Strides are drawn from 1..MAX_STRIDE (fewer when the vocabulary is smaller).
MAX_STRIDE = 4


def windows(stream, context_length, stride=None):
    """(features float32 (n, context_length), labels int64 (n, context_length)) cut from a 1-D
    stream of ids: each window's labels are the same window one token later. Windows do not
    overlap unless `stride` < context_length."""
    stream = np.asarray(stream, dtype=np.int64)
    stride = stride or context_length
    starts = np.arange(0, len(stream) - context_length, stride)
    index = starts[:, None] + np.arange(context_length)[None, :]
    return stream[index].astype(np.float32), stream[index + 1]


def synthetic_tokens(vocabulary, context_length, train_size, seed=0, test_size=None):
    """(x_train, y_train, x_test, y_test) of the counting task (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    test_size = test_size or max(1, train_size // 4)
    total = train_size + test_size
    start = rng.integers(0, vocabulary, size=(total, 1))
    stride = rng.integers(1, max(2, min(MAX_STRIDE, vocabulary - 1) + 1), size=(total, 1))
    tokens = (start + stride * np.arange(context_length + 1)[None, :]) % vocabulary
    x, y = tokens[:, :-1].astype(np.float32), tokens[:, 1:].astype(np.int64)
    return x[:train_size], y[:train_size], x[train_size:], y[train_size:]
