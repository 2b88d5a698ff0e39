"""The random rules' state survives a checkpoint: BRSF's magnitudes, FGRAD's tangents and MEZO's
perturbations are drawn from the step counter (training/draws.py), which the checkpoint holds, so a
run stopped mid-epoch and resumed ends bitwise like the uninterrupted run."""
import os

import pytest
import tensorflow as tf

from training.run import resolve_config, resume_experiment, run_experiment
from tests.training.test_checkpoints import SMALL, interrupt_after_saving, numbers, run

# Forward-only estimates are noisy (their variance grows with the weights): a small step trains.
CHANGES = {"BRSF": {}, "FGRAD": {"learning_rate": 0.001}, "MEZO": {"learning_rate": 0.001}}


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_stopped_and_resumed_ends_like_the_uninterrupted_run(kind, tmp_path, monkeypatch):
    changes = dict(CHANGES[kind], type=kind, checkpoint_steps=7)
    _, reference = run(tmp_path / "reference", **changes)
    interrupt_after_saving(monkeypatch, "epoch_3_step_2")  # iteration 14 of 24
    run_dirs = []
    with pytest.raises(KeyboardInterrupt):
        run_experiment(resolve_config(SMALL, "small", changes), str(tmp_path / "stopped"),
                       log=lambda line: None, started=run_dirs.append)
    monkeypatch.undo()
    checkpoint = os.path.join(run_dirs[0], "checkpoints", "epoch_3_step_2", "model.ckpt")
    assert tf.train.load_variable(checkpoint, "model/draws/counter") == 14  # the draws of 14 steps were used
    _, resumed = resume_experiment(run_dirs[0], log=lambda line: None)
    assert numbers(resumed) == numbers(reference)
    assert resumed["status"] == "completed"  # trained, not diverged: the comparison means something


def test_a_model_of_a_random_rule_seeds_bp_and_back(tmp_path):
    """restore_model takes the weights only: the draw counter is not the model's (as feedback matrices)."""
    mezo_dir, _ = run(tmp_path / "mezo", type="MEZO", learning_rate=0.001, epochs=1, save_model=True)
    _, bp = run(tmp_path / "bp", type="BP", epochs=1, restore_model=True,
                restore_model_path=os.path.join(mezo_dir, "model"))
    assert bp["status"] == "completed"
    bp_dir, _ = run(tmp_path / "bp2", type="BP", epochs=1, save_model=True)
    _, fgrad = run(tmp_path / "fgrad", type="FGRAD", learning_rate=0.001, epochs=1, restore_model=True,
                   restore_model_path=os.path.join(bp_dir, "model"))
    assert fgrad["status"] == "completed"
