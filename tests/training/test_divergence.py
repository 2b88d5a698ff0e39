"""Divergence: a NaN or Inf in the loss or in the weights stops the run as `diverged`, exit code 3."""
import json
import math
import os
import re

import numpy as np
import tensorflow as tf
from click.testing import CliRunner

from definitions.datasets import load_dataset
from training.cli import main
from training.run import resolve_config, run_experiment
from training.trainer import Trainer
from tuner.outcome import judge

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 120,
         "sequence": "fcReLu", "batch_size": 20, "epochs": 3, "learning_rate": 0.1, "optimizer": "momentum", "seed": 5}
# Found by trying: a squared error on ReLU outputs with a step of 10 blows up within a few steps
# for every seed tried (the softmax cross-entropy stays finite at the same rate).
EXPLODING = {"cost_function": "mean_squared_error", "learning_rate": 10.0, "optimizer": "sgd"}


def first_non_finite_step(config):
    """An independent count: step the graph by hand until the loss is not finite."""
    trainer = Trainer(config, load_dataset(config), run_dir=None, log=lambda line: None)
    with trainer.model.graph.as_default():
        trainer.session.run(trainer.model.init_op)
        trainer.start_epoch(1)
        step = 0
        while True:
            _, loss = trainer.session.run([trainer.model.step.train_op, trainer.model.step.loss])
            step += 1
            if not math.isfinite(loss):
                trainer.close()
                return step


def test_exploding_loss_stops_the_run_where_it_happened(tmp_path):
    lines = []
    config = resolve_config(SMALL, "small", EXPLODING)
    run_dir, result = run_experiment(config, str(tmp_path), log=lines.append)
    step = first_non_finite_step(config)
    assert step <= 6  # within the first epoch (6 steps of 20 out of 120)
    assert result["status"] == "diverged" and result["diverged_at"] == {"epoch": 1, "iteration": step}
    assert result["reason"].startswith("non-finite training loss")
    assert lines == [f"diverged at epoch 1, iteration {step} ({result['reason']})"]
    saved = json.load(open(os.path.join(run_dir, "result.json")))  # strict JSON: NaN is written as null
    assert saved["status"] == "diverged" and saved["loss"] is None and saved["diverged_at"]["iteration"] == step
    assert not os.path.exists(os.path.join(run_dir, "checkpoints"))


def test_non_finite_weights_at_an_epoch_end_stop_the_run(tmp_path, monkeypatch):
    """A weight that went Inf while the loss stayed finite (here: put there by hand)."""
    train_epoch = Trainer._train_epoch

    def poisoned(self, epoch):
        outcome = train_epoch(self, epoch)
        if epoch == 2:
            kernel = self.model.blocks[1].weight_layer.kernel
            self.session.run(kernel.assign(tf.fill(kernel.shape, np.float32(np.inf))))
        return outcome

    monkeypatch.setattr(Trainer, "_train_epoch", poisoned)
    lines = []
    run_dir, result = run_experiment(resolve_config(SMALL, "small", {}), str(tmp_path), log=lines.append)
    assert result["status"] == "diverged" and result["diverged_at"] == {"epoch": 2, "iteration": 12}
    assert result["reason"] == "NaN or Inf in model/block_1/0_FullyConnected/kernel"
    assert lines[0].startswith("finished epoch 1,")
    assert lines[1] == "diverged at epoch 2, iteration 12 (NaN or Inf in model/block_1/0_FullyConnected/kernel)"
    # Epoch 1's numbers stay; no checkpoint holds the bad weights.
    assert result["epochs_completed"] == 1 and math.isfinite(result["accuracy"])
    assert os.listdir(os.path.join(run_dir, "checkpoints")) == ["epoch_1"]


def test_cli_exits_3_and_the_tuner_records_the_reason(tmp_path):
    result = CliRunner().invoke(main, [
        "--name", "default_network", "--dataset_name", "synthetic", "--sequence", "fcReLu",
        "--cost_function", "mean_squared_error", "--learning_rate", "10", "--optimizer", "sgd", "--epochs", "2",
        "--output_dir", str(tmp_path)])
    assert result.exit_code == 3, result.output
    match = re.search(r"^diverged at epoch 1, iteration (\d+) \(non-finite training loss", result.output, re.M)
    assert match, result.output
    assert result.output.strip().splitlines()[-1] == f"total accuracy: nan%, loss: nan, acc iterations: {match[1]}"
    verdict = judge({"exit_code": result.exit_code, "stdout": result.output, "stderr": ""})
    assert verdict["status"] == "failed" and verdict["reason"] == "diverged"
    assert verdict["detail"] == f"diverged at epoch 1, iteration {match[1]}"
