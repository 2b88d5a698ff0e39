import json
import sys

import pytest

from tuner.grid import Param, sgen
from tuner.gridfile import load_grid_file, merge_params, parse_grid_option


def test_parse_grid_option():
    assert parse_grid_option("type=BP,DFA, DFAMEM") == Param("type", ("BP", "DFA", "DFAMEM"))
    assert parse_grid_option("epochs=1") == Param("epochs", ("1",))


@pytest.mark.parametrize("text, message", [
    ("type", "expected KEY=V1,V2"),
    ("=BP", "expected KEY=V1,V2"),
    ("type=BP,", "empty value"),
    ("type=", "empty value"),
    ("my type=BP", "not an option name"),
    ("type=BP,BP", "repeats value"),
])
def test_parse_grid_option_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_grid_option(text)


def test_json_grid_file_with_prefix(tmp_path):
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"prefix": "python experiment.py --name vgg_16",
                                "grid": {"type": ["BP", "DFA"], "learning_rate": [0.01, 0.05], "epochs": 1}}))
    prefix, params = load_grid_file(path)
    assert prefix == "python experiment.py --name vgg_16"
    assert params == [Param("type", ("BP", "DFA")), Param("learning_rate", ("0.01", "0.05")),
                      Param("epochs", ("1",))]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML grid files need tomllib (Python 3.11+)")
def test_toml_grid_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('prefix = "python experiment.py"\n\n[grid]\ntype = ["BP", "DFA"]\n'
                    'learning_rate = [0.01, 0.05]\nepochs = 1\n')
    prefix, params = load_grid_file(path)
    assert prefix == "python experiment.py"
    assert [p.name for p in params] == ["type", "learning_rate", "epochs"]
    assert params[1].values == ("0.01", "0.05")


@pytest.mark.parametrize("name, text, message", [
    ("g.json", "{not json", "not valid JSON"),
    ("g.json", '{"grid": {}}', "non-empty 'grid'"),
    ("g.json", '{"grid": {"type": ["BP"]}, "jobs": 2}', "unknown key"),
    ("g.json", '{"grid": {"type": []}}', "no values"),
    ("g.json", '{"prefix": 3, "grid": {"type": ["BP"]}}', "'prefix' must be"),
    ("g.json", '[1, 2]', "expected a table"),
    ("g.yaml", "grid: {}", "use a .toml or .json"),
])
def test_bad_grid_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_grid_file(path)


def test_missing_grid_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read grid file"):
        load_grid_file(tmp_path / "nope.json")


def test_options_override_file_axes_and_add_new_ones():
    merged = merge_params([sgen("type", ["BP", "DFA"]), sgen("epochs", [10])],
                          [sgen("epochs", [1]), sgen("seed", [1, 2])])
    assert merged == [Param("type", ("BP", "DFA")), Param("epochs", ("1",)), Param("seed", ("1", "2"))]
    with pytest.raises(ValueError, match="given twice for epochs"):
        merge_params([], [sgen("epochs", [1]), sgen("epochs", [2])])


def test_commas_inside_brackets_do_not_split_values(tmp_path):
    assert parse_grid_option("synthetic_shape=[8,8,1],[16]").values == ("[8,8,1]", "[16]")
    assert parse_grid_option("minimum_accuracy=[[1, 50]], [[2, 60]]").values == ("[[1, 50]]", "[[2, 60]]")
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"grid": {"synthetic_shape": [[8, 8, 1], [16]]}}))
    assert load_grid_file(path)[1] == [Param("synthetic_shape", ("[8, 8, 1]", "[16]"))]
