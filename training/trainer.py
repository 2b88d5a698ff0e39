"""The Trainer: the one place that owns a tf.compat.v1.Session.

It runs epochs of training steps, evaluates on the test split after each epoch, prints the
per-epoch line, writes TensorBoard data, saves and restores the model, and returns the result
that the CLI writes to result.json.
"""
import math
import os
import time

import numpy as np
import tensorflow as tf

from definitions.errors import ConfigError
from training.graph import build_training_graph, epoch_shuffle_seed
from training.memory import describe, memory_dir, traced_step


class Trainer:
    def __init__(self, config, dataset, run_dir, log=print):
        if config.seed is None:
            raise ValueError("Trainer needs a resolved seed (see training.run.resolve_seed)")
        self.config = config
        self.dataset = dataset
        self.run_dir = run_dir
        self.log = log
        np.random.seed(config.seed)
        self.model = build_training_graph(config, dataset)
        with self.model.graph.as_default():
            self.saver = tf.compat.v1.train.Saver(max_to_keep=2)
        self.session = tf.compat.v1.Session(graph=self.model.graph)
        self.writer = None
        self.iteration = 0

    # -- public --------------------------------------------------------------------------
    def run(self):
        """Train for config.epochs (or until a stop rule fires); returns the result dict."""
        # Saver and FileWriter build ops: they need this run's graph as the default one.
        with self.model.graph.as_default():
            return self._run()

    def _run(self):
        config, model = self.config, self.model
        self.session.run(model.init_op)
        if config.restore_model:
            self._restore()
        if config.gather_stats or config.save_graph:
            self.writer = tf.compat.v1.summary.FileWriter(
                self.run_dir, graph=model.graph if config.save_graph else None)
        self.alignment = {}
        if config.memory_only:
            return self._memory_only()
        result = {"status": "completed", "epochs_completed": 0}
        accuracy = loss = float("nan")
        started = time.perf_counter()
        for epoch in range(1, config.epochs + 1):
            if not self._train_epoch(epoch):
                result.update(status="diverged", diverged_at={"epoch": epoch, "iteration": self.iteration})
                self.log(f"diverged at epoch {epoch}, iteration {self.iteration}")
                break
            accuracy, loss = self.evaluate()
            result["epochs_completed"] = epoch
            self.log(f"finished epoch {epoch}, accuracy: {accuracy:.2f}%, loss: {loss:.4f}")
            self._scalars({"test/accuracy": accuracy, "test/loss": loss})
            threshold = dict(config.minimum_accuracy).get(epoch)
            if threshold is not None and accuracy < threshold:
                self.log(f"stopping: accuracy {accuracy:.2f}% after epoch {epoch} is below the "
                         f"minimum {threshold:g}%")
                result["status"] = "below_minimum_accuracy"
                break
        result.update(accuracy=accuracy, loss=loss, iterations=self.iteration,
                      train_seconds=round(time.perf_counter() - started, 3))
        if self.alignment:
            result["alignment_degrees"] = self.alignment
        if config.save_model:
            result["model_path"] = self.save()
        return result

    def evaluate(self):
        """Accuracy (%) and mean loss over the whole test split, batch statistics off."""
        model = self.model
        self.session.run(model.eval_init, {model.features_in: self.dataset.x_test,
                                           model.labels_in: self.dataset.y_test})
        loss_sum = correct = count = 0
        while True:
            try:
                batch_loss, batch_correct, batch_count = self.session.run(
                    [model.eval_loss_sum, model.eval_correct, model.eval_count])
            except tf.errors.OutOfRangeError:
                break
            loss_sum, correct, count = loss_sum + batch_loss, correct + batch_correct, count + batch_count
        return 100.0 * correct / max(count, 1), loss_sum / max(count, 1)

    def start_epoch(self, epoch):
        """Initialise the training iterator with this epoch's shuffle for one pass over the data."""
        self.session.run(self.model.train_init, {self.model.features_in: self.dataset.x_train,
                                                 self.model.labels_in: self.dataset.y_train,
                                                 self.model.shuffle_seed: epoch_shuffle_seed(self.config.seed, epoch)})

    def save(self, path=None):
        path = path or self.config.save_model_path or os.path.join(self.run_dir, "model", "model.ckpt")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with self.model.graph.as_default():
            return self.saver.save(self.session, path)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.session.close()

    # -- internals -----------------------------------------------------------------------
    def _fetches(self):
        return [self.model.step.train_op, self.model.step.loss, self.model.increment_step]

    def _train_epoch(self, epoch):
        """One pass over the training split; False when the loss stops being finite."""
        config = self.config
        fetches = self._fetches()
        stat_fetches = fetches + [self.model.step.stats]
        self.start_epoch(epoch)
        while True:
            statistics_step = config.gather_stats and (self.iteration + 1) % config.stat_period == 0
            try:
                if statistics_step:
                    # The statistics step is traced: its memory files land in memory/iteration_N/.
                    (_, loss, _, stats), _ = traced_step(self, stat_fetches, memory_dir(self.run_dir, self.iteration + 1))
                else:
                    _, loss, _ = self.session.run(fetches)
            except tf.errors.OutOfRangeError:
                return True
            self.iteration += 1
            if not math.isfinite(loss):
                return False
            if config.eval_period and self.iteration % config.eval_period == 0:
                self.log(f"epoch {epoch}, iteration {self.iteration}, train loss: {loss:.4f}")
            if statistics_step:
                self.alignment = {name.split("/")[-1]: round(float(v), 3) for name, v in stats.items()}
                self._scalars({"train/loss": loss, **stats})

    def _memory_only(self):
        """Warm up, trace one training step, evaluate, stop: the memory_only mode."""
        self.start_epoch(0)
        for _ in range(self.config.memory_warmup):
            self._step_restarting_epochs(self._fetches())
        out_dir = memory_dir(self.run_dir)
        values, summary = self._step_restarting_epochs(self._fetches(), out_dir)
        self.log(describe(summary, out_dir))
        accuracy, loss = self.evaluate()
        return {"status": "memory_only", "epochs_completed": 0, "accuracy": accuracy, "loss": loss,
                "iterations": self.iteration, "train_seconds": 0.0, "peak_bytes": summary["peak_bytes"],
                "persistent_bytes": summary["persistent_bytes"], "memory_dir": out_dir}

    def _step_restarting_epochs(self, fetches, trace_dir=None):
        """One training step (traced when trace_dir is given), starting a new epoch if needed."""
        for _ in range(2):
            try:
                result = traced_step(self, fetches, trace_dir) if trace_dir else (self.session.run(fetches), None)
                self.iteration += 1
                return result
            except tf.errors.OutOfRangeError:
                self.start_epoch(0)
        raise ConfigError("the training split is empty")

    def _scalars(self, values):
        if self.writer is None:
            return
        summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag=k, simple_value=float(v))
                                              for k, v in values.items()])
        self.writer.add_summary(summary, self.iteration)
        self.writer.flush()

    def _restore(self):
        path = self.config.restore_model_path
        if path and os.path.isdir(path):
            path = tf.train.latest_checkpoint(path)
        if not path or not tf.compat.v1.train.checkpoint_exists(path):
            raise ConfigError(f"restore_model is set but no checkpoint was found at "
                              f"{self.config.restore_model_path!r}; set restore_model_path to a "
                              f"checkpoint prefix or a directory holding one")
        try:
            self.saver.restore(self.session, path)
        except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as error:
            raise ConfigError(f"cannot restore {path}: it was saved from a different network "
                              f"({str(error).splitlines()[0]})") from None
        self.log(f"restored model from {path}")
