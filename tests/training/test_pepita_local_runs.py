"""PEPITA and LOCAL as a user meets them: bad networks are one Error line, and a resumed run ends
where an uninterrupted one ends (LOCAL's heads and their optimizer slots, PEPITA's F are saved)."""
import os
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from training import checkpoints
from training.run import resolve_config, resume_experiment, run_experiment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 120,
         "sequence": "fcTanh", "batch_size": 20, "epochs": 3, "learning_rate": 0.1, "optimizer": "momentum",
         "seed": 5, "keep_checkpoints": 2}


def numbers(result):
    return {key: result[key] for key in ("accuracy", "loss", "iterations", "epochs_completed", "status")}


@pytest.mark.parametrize("kind,saved_parts", [
    ("PEPITA", ["feedback/B_0", "Momentum"]),
    ("LOCAL", ["model/auxiliary/block_0/0_FullyConnected/kernel", "model/auxiliary/block_1/0_FullyConnected/bias",
               "auxiliary/block_1/0_FullyConnected/kernel/Momentum"]),
])
def test_a_resumed_run_ends_like_an_uninterrupted_one(kind, saved_parts, tmp_path):
    run_dir, reference = run_experiment(resolve_config(SMALL, "small", {"type": kind}), str(tmp_path / "ref"),
                                        log=lambda line: None)
    names = {name for name, _ in tf.train.list_variables(os.path.join(run_dir, "checkpoints", "epoch_2", "model.ckpt"))}
    for part in saved_parts:
        assert any(part in name for name in names), (part, sorted(names))
    # As a kill after epoch 2 leaves it: no result, no epoch 3 checkpoint.
    copy = str(tmp_path / "copy")
    shutil.copytree(run_dir, copy)
    os.remove(os.path.join(copy, "result.json"))
    shutil.rmtree(os.path.join(copy, "checkpoints", "epoch_3"))
    lines = []
    _, resumed = resume_experiment(copy, log=lines.append)
    assert lines[0].startswith(f"resuming from {os.path.join(copy, 'checkpoints', 'epoch_2')}")
    assert numbers(resumed) == numbers(reference)
    assert [c.epoch for c in checkpoints.list_checkpoints(os.path.join(copy, "checkpoints"))][-1] == 3


ONE_BLOCK = """\
from layers import FullyConnected


def one_block(output_size):
    return [FullyConnected(output_size, flatten=True)]
"""


@pytest.mark.parametrize("args,error", [
    (["--type", "LOCAL", "--definitions", "{one}", "--sequence", "one_block"],
     "Error: LOCAL trains each block on its own auxiliary loss and needs at least two blocks (a weight layer "
     "starts a block); this sequence has 1: use BP"),
    (["--type", "PEPITA", "--sequence", "liao_mnist"],
     "Error: PEPITA is defined for dense layers each followed by element-wise activations (Dellaferrera & "
     "Kreiman 2022), but block_0 has ConvolutionalLayer([5, 5], 20): use a sequence of FullyConnected and "
     "Sigmoid/Tanh/ReLu/LeakyReLu/GELU layers"),
])
def test_a_network_the_rule_is_not_defined_on_is_one_error_line(args, error, tmp_path):
    (tmp_path / "one.py").write_text(ONE_BLOCK)
    args = [arg.format(one=tmp_path / "one.py") for arg in args]
    process = subprocess.run([sys.executable, "experiment.py", *args, "--output_dir", str(tmp_path / "runs")],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [error]
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs")  # nothing left behind


@pytest.mark.parametrize("kind", ["PEPITA", "LOCAL"])
def test_a_traced_step_is_classified_by_its_scopes(kind, tmp_path):
    """PEPITA has no backward pass: nothing of its traced step is in the backward phase. LOCAL's
    auxiliary heads are forward ops (activations), their gradients backward ops."""
    import csv
    import json
    config = resolve_config(SMALL, "small", {"type": kind, "memory_only": True})
    run_dir, _ = run_experiment(config, str(tmp_path), log=lambda line: None)
    summary = json.loads(open(os.path.join(run_dir, "memory", "summary.json")).read())
    with open(os.path.join(run_dir, "memory", "nodes.csv")) as handle:
        nodes = list(csv.DictReader(handle))
    if kind == "PEPITA":
        assert summary["peak_bytes_by_phase"]["backward"] == 0
        # (The variable model/feedback/B_0 is named under feedback/, but allocates nothing in a step.)
        assert not [n for n in nodes if n["phase"] == "backward" and int(n["bytes_allocated"])]
        assert not [n for n in nodes if n["node_name"].startswith("backward/")]
        assert any(n["node_name"].startswith("modulated/") and n["phase"] == "forward" for n in nodes)
    else:
        heads = [n for n in nodes if n["node_name"].startswith("auxiliary/")]
        assert heads and {n["category"] for n in heads} == {"activation"}
        assert any("auxiliary" in n["node_name"] and n["phase"] == "backward" for n in nodes)


def test_the_tuner_grids_take_the_new_types(tmp_path):
    from click.testing import CliRunner
    from tuner.cli import main as tuner
    result = CliRunner().invoke(tuner, ["run", "--grid", "type=PEPITA,LOCAL", "--grid", "learning_rate=0.01,0.05",
                                        "--dry_run", "--output", str(tmp_path / "sweep")])
    assert result.exit_code == 0, result.output
    assert sum("--type PEPITA" in line for line in result.output.splitlines()) == 2
    assert sum("--type LOCAL" in line for line in result.output.splitlines()) == 2
    typo = CliRunner().invoke(tuner, ["run", "--grid", "type=PEPITA,LOCALL", "--dry_run",
                                      "--output", str(tmp_path / "typo")])
    assert typo.exit_code == 2 and "did you mean 'LOCAL'" in typo.output


@pytest.mark.parametrize("name", ["pepita_network", "local_network"])
def test_the_shipped_network_dicts_validate(name):
    from definitions.networks import local_network, pepita_network
    from definitions.config import validate
    network = {"pepita_network": pepita_network, "local_network": local_network}[name]
    assert validate(network).type == name.split("_")[0].upper()


@pytest.mark.parametrize("first,then", [("LOCAL", "BP"), ("BP", "LOCAL")])
def test_a_model_saved_by_one_rule_seeds_the_other(first, then, tmp_path):
    """LOCAL's heads are training machinery, not the model: a LOCAL-trained model restores into BP
    (the heads are left out) and a BP-trained one into LOCAL (its heads start afresh)."""
    run_dir, saved = run_experiment(resolve_config(SMALL, "small", {"type": first, "save_model": True}),
                                    str(tmp_path / "a"), log=lambda line: None)
    lines = []
    _, result = run_experiment(resolve_config(SMALL, "small", {
        "type": then, "restore_model": True, "restore_model_path": os.path.join(run_dir, "model"),
        "learning_rate": 1e-9, "epochs": 1}), str(tmp_path / "b"), log=lines.append)
    assert lines[0].startswith("restored model from")
    assert (result["accuracy"], result["loss"]) == pytest.approx((saved["accuracy"], saved["loss"]), abs=1e-3)


LONG_FC_5 = """\
from definitions.sequences import long_fc


def long_fc_5(output_size):
    return long_fc(output_size, blocks=5)
"""


def test_local_s_traced_peak_is_flat_in_depth(tmp_path, own_registry):
    """One block alive at a time: 20 blocks peak as 5 do (issue 23: within 10%)."""
    import json
    (tmp_path / "fc5.py").write_text(LONG_FC_5)
    deep = {"dataset_name": "synthetic", "synthetic_shape": [64], "synthetic_classes": 10, "synthetic_size": 200,
            "batch_size": 100, "epochs": 1, "seed": 3, "memory_only": True, "type": "LOCAL"}
    peaks = {}
    for sequence, extra in (("long_fc", {}), ("long_fc_5", {"definitions": [str(tmp_path / "fc5.py")]})):
        config = resolve_config(deep, "deep", {"sequence": sequence, **extra})
        run_dir, _ = run_experiment(config, str(tmp_path / sequence), log=lambda line: None)
        peaks[sequence] = json.loads(open(os.path.join(run_dir, "memory", "summary.json")).read())["peak_bytes"]
    assert peaks["long_fc"] <= 1.10 * peaks["long_fc_5"], peaks
