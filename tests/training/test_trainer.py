"""The trainer end to end on a small synthetic dataset."""
import json
import os

import pytest

from definitions.errors import ConfigError
from training.run import final_line, resolve_config, run_experiment

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 120,
         "sequence": "fcReLu", "batch_size": 20, "epochs": 2, "learning_rate": 0.1, "optimizer": "momentum", "seed": 5}


def run(tmp_path, log=None, **changes):
    lines = []
    config = resolve_config(SMALL, "small", changes)
    run_dir, result = run_experiment(config, str(tmp_path), log=lines.append)
    return run_dir, result, lines


def test_run_writes_config_result_and_epoch_lines(tmp_path):
    run_dir, result, lines = run(tmp_path)
    assert os.path.basename(run_dir) == "small_BP_001"
    assert [line.split(",")[0] for line in lines] == ["finished epoch 1", "finished epoch 2"]
    saved = json.load(open(os.path.join(run_dir, "result.json")))
    assert saved["status"] == "completed" and saved["epochs_completed"] == 2
    assert saved["iterations"] == 2 * 6  # 120 examples / batch 20
    assert 0 <= saved["accuracy"] <= 100 and saved["train_seconds"] > 0
    assert json.load(open(os.path.join(run_dir, "config.json")))["synthetic_size"] == 120
    assert final_line(result).startswith("total accuracy: ")


def test_same_seed_same_result_and_training_learns(tmp_path):
    _, first, _ = run(tmp_path / "a", epochs=10)
    _, second, _ = run(tmp_path / "b", epochs=10)
    assert (first["accuracy"], first["loss"]) == (second["accuracy"], second["loss"])
    assert first["accuracy"] > 60  # 3 classes: chance is 33%


def test_minimum_accuracy_stops_the_run(tmp_path):
    _, result, lines = run(tmp_path, minimum_accuracy=[(1, 100)])
    assert result["status"] == "below_minimum_accuracy" and result["epochs_completed"] == 1
    assert "below the minimum 100%" in lines[-1]


def test_save_then_restore_gives_the_same_accuracy(tmp_path):
    run_dir, saved, _ = run(tmp_path / "a", save_model=True)
    assert os.path.exists(saved["model_path"] + ".index")
    restored_dir, _, lines = run(tmp_path / "b", restore_model=True, learning_rate=1e-9, epochs=1,
                                 restore_model_path=os.path.join(run_dir, "model"))
    assert lines[0].startswith("restored model from")
    assert lines[1] == f"finished epoch 1, accuracy: {saved['accuracy']:.2f}%, loss: {saved['loss']:.4f}"


def test_restore_from_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no checkpoint was found"):
        run(tmp_path, restore_model=True, restore_model_path=str(tmp_path / "missing"))


def test_sequence_that_does_not_fit_the_input_fails_before_training(tmp_path):
    with pytest.raises(ConfigError, match=r"ConvolutionalLayer.*image input.*\(batch, 6\)"):
        run(tmp_path, sequence="liao_mnist")


def test_gather_stats_writes_tensorboard_events(tmp_path):
    run_dir, _, _ = run(tmp_path, gather_stats=True, save_graph=True, stat_period=2)
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run_dir))


def test_each_epoch_sees_a_new_order_and_runs_repeat_it(tmp_path):
    import numpy as np
    import tensorflow as tf
    from definitions.datasets import load_dataset
    from training.trainer import Trainer
    config = resolve_config(SMALL, "small", {"batch_size": 120})
    dataset = load_dataset(config)

    def first_batches():
        trainer = Trainer(config, dataset, str(tmp_path))
        labels = []
        with trainer.model.graph.as_default():
            trainer.session.run(trainer.model.init_op)
            batch = trainer.model.graph.get_tensor_by_name("input/next_batch:1")
            for epoch in (1, 2):
                trainer.start_epoch(epoch)
                labels.append(trainer.session.run(batch))
        trainer.close()
        return labels

    first, again = first_batches(), first_batches()
    assert not np.array_equal(first[0], first[1])  # reshuffled between epochs
    np.testing.assert_array_equal(first[0], again[0])  # and repeatable
    np.testing.assert_array_equal(first[1], again[1])
    assert sorted(first[0]) == sorted(dataset.y_train)


def test_statistics_steps_train_on_their_own_batch_and_draw_no_other(tmp_path):
    # A conv network: Grappler ties a conv gradient's folded shape to the op feeding the conv;
    # when that op was the iterator, a statistics step also drew (and dropped) the next batch.
    conv = {"type": "DFA", "sequence": "liao_mnist_bn", "synthetic_shape": [8, 8, 1], "learning_rate": 0.01}
    _, plain, _ = run(tmp_path / "plain", **conv)
    _, stats, _ = run(tmp_path / "stats", gather_stats=True, stat_period=2, **conv)
    assert stats["iterations"] == plain["iterations"] == 2 * 6
    assert (stats["accuracy"], stats["loss"]) == (plain["accuracy"], plain["loss"])
    assert set(stats["alignment_degrees"]) == {"block_0", "block_1", "block_2", "block_3"}


# -- restore_model: the model's weights only ---------------------------------------------------

BN_NETWORK = {"sequence": "liao_mnist_bn", "synthetic_shape": [8, 8, 1], "learning_rate": 0.01}


@pytest.fixture(scope="module")
def bp_model(tmp_path_factory):
    """A BP run with momentum on a network with batch norm, saved by save_model: (model dir, prefix)."""
    config = resolve_config(SMALL, "small", dict(BN_NETWORK, save_model=True))
    run_dir, result = run_experiment(config, str(tmp_path_factory.mktemp("bp")), log=lambda line: None)
    return os.path.join(run_dir, "model"), result["model_path"]


@pytest.mark.parametrize("type_,optimizer", [
    ("DFA", "momentum"), ("DFAMEM", "momentum"), ("DFAMEM", "adam"), ("BP", "adam"), ("FA", "sgd"), ("DRTP", "adam"),
    ("BPCKPT", "momentum"),
])
def test_restore_model_starts_any_algorithm_and_optimizer_from_the_saved_weights(bp_model, tmp_path, type_, optimizer):
    import numpy as np
    import tensorflow as tf
    from definitions.datasets import load_dataset
    from training.restore import model_variables
    from training.trainer import Trainer
    model_dir, prefix = bp_model
    config = resolve_config(SMALL, "small", dict(BN_NETWORK, type=type_, optimizer=optimizer, epochs=1,
                                                 restore_model=True, restore_model_path=model_dir))
    seen = {}

    def log(line):
        if line.startswith("restored model from"):  # said after restoring, before the first step
            with trainer.model.graph.as_default():
                for variable in tf.compat.v1.global_variables():
                    seen[variable.op.name] = trainer.session.run(variable)

    trainer = Trainer(config, load_dataset(config), str(tmp_path), log=log)
    result = trainer.run()
    trainer.close()
    assert result["status"] == "completed"
    saved = tf.train.load_checkpoint(prefix)
    names = [variable.op.name for variable in model_variables(trainer.model.blocks)]
    assert any("moving_variance" in name for name in names) and len(names) == 18
    for name in names:
        np.testing.assert_array_equal(seen[name], saved.get_tensor(name), err_msg=name)
    # Nothing else came from the BP run: no momentum slot, no step count.
    assert seen["global_step"] == 0
    slots = [name for name in seen if name.endswith(("/Momentum", "/Adam", "/Adam_1"))]
    assert (len(slots) > 0) == (optimizer != "sgd") and all(not seen[name].any() for name in slots)


@pytest.mark.parametrize("changes,message", [
    ({"synthetic_shape": [8, 8, 2]},
     "model/block_0/0_ConvolutionalLayer/kernel has shape [5, 5, 1, 20] in the checkpoint but [5, 5, 2, 20] "
     "in this network (a different architecture)"),
    ({"sequence": "fcReLu"}, "it has no variable model/block_0/0_FullyConnected/kernel (it was saved from a "
                             "different architecture)"),
    ({"sequence": "liao_mnist"}, "it holds model/block_0/3_BatchNormalization/beta, which this network lacks (it "
                                 "was saved from a different architecture)"),
])
def test_restoring_another_architecture_is_one_clear_error(bp_model, tmp_path, changes, message):
    from click.testing import CliRunner
    from training.cli import main
    values = {**SMALL, **BN_NETWORK, **changes, "restore_model": True, "restore_model_path": bp_model[0]}
    options = {param.name for param in main.params}
    args = ["--name", "default_network", "--output_dir", str(tmp_path)]
    for key, value in values.items():
        args += [f"--{key}", str(value)] if key in options else ["--set", f"{key}={json.dumps(value)}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: cannot restore {bp_model[1]}: {message}"]
