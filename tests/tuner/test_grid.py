import itertools
import re

import pytest
from hypothesis import given, strategies as st

from tuner.experiment_command import GridKeyError
from tuner.grid import Param, cmd_generator, expand, run_id, sgen, split_prefix


def test_sgen_formats_values_as_command_text():
    assert sgen("learning_rate", [0.05, 1e-3]).values == ("0.05", "0.001")
    assert sgen("batch_size", range(10, 30, 10)).values == ("10", "20")
    assert sgen("trace", [True, False]).values == ("true", "false")
    assert sgen("epochs", 1) == Param("epochs", ("1",))  # a lone value is a one-value axis


@pytest.mark.parametrize("name, values, message", [
    ("learning rate", [1], "not an option name"),
    ("--type", ["BP"], "not an option name"),
    ("output_dir", ["x"], "set by the tuner"),
    ("type", [], "no values"),
    ("type", ["BP", "BP"], "repeats value"),
    ("type", [" "], "empty value"),
    ("type", [None], "not a string, number or boolean"),
])
def test_sgen_rejects_bad_axes(name, values, message):
    with pytest.raises(ValueError, match=message):
        sgen(name, values)


def test_cmd_generator_gives_the_cartesian_product_in_grid_order():
    gen = cmd_generator([sgen("type", ["BP", "DFA"]), sgen("batch_size", [50, 100])],
                        command_prefix="python experiment.py --name vgg_16", output_path="unused")
    assert gen.commands == [
        "python experiment.py --name vgg_16 --type BP --batch_size 50",
        "python experiment.py --name vgg_16 --type BP --batch_size 100",
        "python experiment.py --name vgg_16 --type DFA --batch_size 50",
        "python experiment.py --name vgg_16 --type DFA --batch_size 100",
    ]
    assert len({run.run_id for run in gen.runs}) == 4


def test_run_id_is_stable_across_processes_and_releases():
    # A changed id would orphan every finished run of every existing sweep: pin one. The hash
    # is sha256 of '{"prefix":["python","experiment.py"],"params":[["learning_rate","0.05"],["type","BP"]]}'.
    (run,) = expand("python experiment.py", [sgen("type", ["BP"]), sgen("learning_rate", [0.05])])
    assert run.run_id == run_id(("python", "experiment.py"), (("learning_rate", "0.05"), ("type", "BP")))
    assert run.run_id == "learning_rate-0.05_type-BP_" + run.run_id[-8:]
    assert run.run_id == "learning_rate-0.05_type-BP_95bf8ac0"


def test_run_id_depends_on_the_command_not_on_grid_order():
    a = expand("python experiment.py", [sgen("type", ["BP", "DFA"]), sgen("learning_rate", [0.1, 0.2])])
    b = expand("python experiment.py", [sgen("learning_rate", [0.2, 0.1]), sgen("type", ["DFA", "BP"])])
    assert sorted(run.run_id for run in a) == sorted(run.run_id for run in b)
    other_prefix = expand("python other.py", [sgen("type", ["BP", "DFA"]), sgen("learning_rate", [0.1, 0.2])])
    assert not {run.run_id for run in a} & {run.run_id for run in other_prefix}


def test_run_id_slug_is_a_safe_directory_name():
    (run,) = expand("x", [sgen("data", ["/tmp/a b/c"]), sgen("n", ["1"])])
    assert "/" not in run.run_id and " " not in run.run_id
    (long_run,) = expand("x", [sgen("name", ["v" * 300])])
    assert len(long_run.run_id) <= 80 + 9


@given(st.permutations([("type", ["BP", "DFA"]), ("lr", ["0.1", "0.2", "0.3"]), ("epochs", ["1"])]))
def test_ids_are_order_independent_for_any_axis_order(axes):
    runs = expand("python e.py", [sgen(name, values) for name, values in axes])
    ids = {run.run_id for run in runs}
    assert len(ids) == 6
    reference = expand("python e.py", [sgen("epochs", ["1"]), sgen("lr", ["0.1", "0.2", "0.3"]),
                                       sgen("type", ["BP", "DFA"])])
    assert ids == {run.run_id for run in reference}


def test_argv_appends_output_dir_last():
    (run,) = expand("python experiment.py", [sgen("type", ["BP"])])
    assert run.argv("/abs/run") == ["python", "experiment.py", "--type", "BP", "--output_dir", "/abs/run"]


@pytest.mark.parametrize("prefix, message", [
    ("", "empty"),
    ("python 'experiment.py", "cannot be split"),
    ("python experiment.py --output_dir x", "must not contain --output_dir"),
])
def test_bad_prefixes(prefix, message):
    with pytest.raises(ValueError, match=message):
        split_prefix(prefix)


def test_an_axis_given_twice_is_an_error():
    with pytest.raises(ValueError, match="given twice: type"):
        expand("x", [sgen("type", ["BP"]), sgen("type", ["DFA"])])


def test_product_size():
    params = [sgen("a", [1, 2, 3]), sgen("b", [1, 2]), sgen("c", [1, 2])]
    runs = expand("x", params)
    assert [tuple(v for _, v in run.params) for run in runs] == list(
        itertools.product(*[p.values for p in params]))


def test_experiment_keys_without_an_option_of_their_own_go_through_set():
    (run,) = expand("python experiment.py", [sgen("type", ["DFA"]), sgen("memory_warmup", [5]),
                                             sgen("synthetic_shape", ["[16]"])])
    assert run.argv("/r") == ["python", "experiment.py", "--type", "DFA", "--set", "memory_warmup=5",
                              "--set", "synthetic_shape=[16]", "--output_dir", "/r"]
    # Another command takes its grid as it is: only the experiment's keys are known.
    (other,) = expand("python other.py", [sgen("memory_warmup", [5])])
    assert other.argv() == ["python", "other.py", "--memory_warmup", "5"]


@pytest.mark.parametrize("prefix, name, message", [
    ("python experiment.py", "learning_reate", "not a network-dict key (did you mean 'learning_rate'?)"),
    ("experiment --name vgg_16", "lr", "'lr' is not a network-dict key"),
    ("python -m training.cli --epochs 2", "epochs", "also set by the prefix (--epochs 2)"),
    ("python experiment.py --set memory_warmup=3", "memory_warmup", "also set by the prefix (--set memory_warmup=3)"),
])
def test_an_experiment_grid_key_is_checked_before_anything_runs(prefix, name, message):
    with pytest.raises(GridKeyError, match=re.escape(message)):
        expand(prefix, [sgen(name, ["1"])])


@pytest.mark.parametrize("prefix", ["python experiment.py --resume runs/x", "experiment --list"])
def test_an_experiment_prefix_leaves_resume_to_the_tuner(prefix):
    with pytest.raises(ValueError, match="the prefix must not contain"):
        expand(prefix, [sgen("epochs", ["1"])])
