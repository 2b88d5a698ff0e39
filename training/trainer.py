"""The Trainer: the one place that owns a tf.compat.v1.Session.

It runs epochs of training steps, evaluates on the test split after each epoch, prints the
per-epoch line, writes TensorBoard data, saves and restores the model, and returns the result
that the CLI writes to result.json.

Reliability (see training/checkpoints.py and training/divergence.py): every
`checkpoint_every` epochs the whole training state is saved atomically *before* the epoch's
line is printed, and every `checkpoint_steps` iterations inside an epoch; `run(resume=True)`
continues from the newest valid checkpoint with the same per-epoch shuffles (mid-epoch: the
batches already trained are skipped), so it ends where an uninterrupted run ends. A NaN or Inf
in the loss (checked every step) or in the weights (checked at epoch ends and before every
checkpoint) stops the run as `diverged`. Time spent saving is `checkpoint_seconds`, never
`train_seconds`.
"""
import math
import os
import time

import numpy as np
import tensorflow as tf

import tracing

from definitions.errors import ConfigError
from training import checkpoints, divergence, history
from training.graph import build_training_graph, epoch_shuffle_seed
from tracing.session_config import session_config
from training.memory import describe, memory_dir, traced_step
from training.restore import restore_model


class Trainer:
    def __init__(self, config, dataset, run_dir, log=print, progress=None):
        """`progress(epoch, epochs, steps)` makes a bar (training.progress); None: no bar."""
        if config.seed is None:
            raise ValueError("Trainer needs a resolved seed (see training.run.resolve_seed)")
        self.config = config
        self.dataset = dataset
        self.run_dir = run_dir
        self.log = log
        self.progress = progress
        self._bar = None
        np.random.seed(config.seed)
        self.model = build_training_graph(config, dataset)
        # With memory_budget the graph's config has the plan chosen for it: config.json records it.
        self.config = self.model.config
        if self.model.memory_plan is not None:
            self.log(self.model.memory_plan.line())
        with self.model.graph.as_default():
            self.saver = tf.compat.v1.train.Saver(max_to_keep=2)
            self.checkpoint_saver = checkpoints.make_saver()
        self.finite_check = divergence.FiniteCheck(self.model.graph)
        self.session = tf.compat.v1.Session(graph=self.model.graph, config=session_config())
        self.writer = None
        self.iteration = 0
        self._resume_step = 0  # steps of the first epoch to train that a mid-epoch checkpoint holds
        self._result = None  # the result dict of the run in progress
        self._clock = None  # start of the training time not yet added to train_seconds
        self._epoch_figures = {"loss_sum": 0.0, "steps": 0, "correct": 0, "examples": 0, "seconds_before": 0.0}

    # -- public --------------------------------------------------------------------------
    def run(self, resume=False):
        """Train for config.epochs (or until a stop rule fires); returns the result dict.

        resume=True continues from the newest valid checkpoint in run_dir/checkpoints (from
        the start when there is none).
        """
        # Saver and FileWriter build ops: they need this run's graph as the default one.
        with self.model.graph.as_default():
            return self._run(resume)

    def _run(self, resume):
        config, model = self.config, self.model
        self.session.run(model.init_op)
        state = None
        if resume:
            state = checkpoints.restore_latest(self.session, self.checkpoint_saver, self.run_dir, config, self._say)
            if state is None:
                self._say(f"no usable checkpoint in {checkpoints.checkpoint_root(self.run_dir)}: "
                          f"starting from epoch 1")
        if state is None and config.restore_model:
            self._restore()
        if config.gather_stats or config.save_graph:
            self.writer = tf.compat.v1.summary.FileWriter(
                self.run_dir, graph=model.graph if config.save_graph and state is None else None)
        self.alignment = {}
        if config.memory_only:
            return self._memory_only()
        result, first_epoch = self._starting_point(state)
        self._result = result
        # A checkpoint taken after the last epoch or after a stop rule fired: nothing left to train.
        epochs = range(first_epoch, config.epochs + 1) if result["status"] == "running" else ()
        for epoch in epochs:
            if not self._epoch(epoch, result):
                break
        if result["status"] == "running":
            result["status"] = "completed"
        result.update(iterations=self.iteration, train_seconds=round(result["train_seconds"], 3),
                      checkpoint_seconds=round(result["checkpoint_seconds"], 3))
        if self.alignment:
            result["alignment_degrees"] = self.alignment
        if config.save_model and result["status"] != "diverged":
            result["model_path"] = self.save()
        return result

    def _starting_point(self, state):
        """(result so far, first epoch to train): a fresh start, or where a checkpoint left off.

        A mid-epoch checkpoint continues its own epoch: self._resume_step of its batches are done.
        """
        result = {"status": "running", "epochs_completed": 0, "accuracy": float("nan"), "loss": float("nan"),
                  "iterations": 0, "train_seconds": 0.0, "checkpoint_seconds": 0.0}
        if state is None:
            return result, 1
        result.update(state["result"])
        self.alignment = dict(result.pop("alignment_degrees", {}))
        self.iteration = state["iteration"]
        result.update(resumed_from_epoch=state["epoch"], resumed_from_iteration=state["iteration"])
        if state.get("step") is not None:
            self._resume_step = state["step"]
            return result, state["epoch"]
        return result, state["epoch"] + 1

    def _history(self, epoch, accuracy, loss, result):
        seen = self._epoch_figures["examples"]
        history.record(self.run_dir, {
            "epoch": epoch,
            "train_loss": self._epoch_figures["loss_sum"] / max(self._epoch_figures["steps"], 1),
            "train_accuracy": 100.0 * self._epoch_figures["correct"] / seen if seen else None,
            "test_loss": float(loss), "test_accuracy": float(accuracy),
            "epoch_seconds": round(result["train_seconds"] - self._epoch_figures["seconds_before"], 3),
            "cumulative_seconds": round(result["train_seconds"], 3)})

    def _epoch(self, epoch, result):
        """Train, check, evaluate, checkpoint and report one epoch; False when the run must stop."""
        config = self.config
        self._clock = time.perf_counter()
        # Train loss: the mean of the epoch's step losses; train accuracy: over its untraced steps
        # (a traced step fetches exactly the step, nothing more). A resumed epoch: its own steps.
        self._epoch_figures = {"loss_sum": 0.0, "steps": 0, "correct": 0, "examples": 0,
                               "seconds_before": result["train_seconds"]}
        loss_kind = self._train_epoch(epoch)
        bad_weights = self.finite_check.non_finite(self.session)
        if loss_kind is None and not bad_weights:
            accuracy, loss = self.evaluate()
            if not math.isfinite(loss):
                loss_kind = "test loss"
        self._count_training_time(result)
        if loss_kind or bad_weights:
            self._diverged(result, epoch, divergence.describe(loss_kind, bad_weights))
            return False
        result.update(epochs_completed=epoch, accuracy=accuracy, loss=loss, iterations=self.iteration,
                      **loss_units(loss))
        if self.run_dir:  # before the checkpoint: see training/history.py
            self._history(epoch, accuracy, loss, result)
        threshold = dict(config.minimum_accuracy).get(epoch)
        if threshold is not None and accuracy < threshold:
            result["status"] = "below_minimum_accuracy"
        if checkpoints.saves_at_epoch_end(config, epoch) and self.run_dir:
            # Saved before the `finished epoch` line: once a reader sees it, the epoch is safe.
            self._checkpoint(result, epoch)
        # On a token dataset (shakespeare: characters) the loss per token in both units, as
        # language models report it; a classifier's line stays as it was.
        units = loss_units(loss)
        per_token = f" ({units['loss_nats']:.4f} nats, {units['loss_bits']:.4f} bits per token)" \
            if self.dataset.label_shape else ""
        self._say(f"finished epoch {epoch}, accuracy: {accuracy:.2f}%, loss: {loss:.4f}{per_token}")
        self._scalars({"test/accuracy": accuracy, "test/loss": loss})
        if result["status"] == "below_minimum_accuracy":
            self._say(f"stopping: accuracy {accuracy:.2f}% after epoch {epoch} is below the "
                      f"minimum {threshold:g}%")
            return False
        return True

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

    def start_epoch(self, epoch, skip_batches=0):
        """Initialise the training iterator with this epoch's shuffle for one pass over the data.

        skip_batches > 0 resumes the pass: the same order, without its first skip_batches batches.
        """
        model = self.model
        feed = {model.features_in: self.dataset.x_train, model.labels_in: self.dataset.y_train,
                model.shuffle_seed: epoch_shuffle_seed(self.config.seed, epoch)}
        if skip_batches:
            self.session.run(model.resume_init, {**feed, model.skip_batches: skip_batches})
        else:
            self.session.run(model.train_init, feed)

    def save(self, path=None):
        path = path or self.config.save_model_path or os.path.join(self.run_dir, "model", "model.ckpt")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with self.model.graph.as_default():
            try:
                return self.saver.save(self.session, path)
            except tf.errors.OpError as error:
                raise checkpoints.as_os_error(error, path) from None

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.session.close()

    # -- internals -----------------------------------------------------------------------
    def _fetches(self):
        return [self.model.step.train_op, self.model.step.loss, self.model.increment_step]

    def _train_epoch(self, epoch):
        """One pass over the training split; "training loss" when the loss stops being finite, else None."""
        config = self.config
        fetches = self._fetches()
        step, self._resume_step = self._resume_step, 0
        self.start_epoch(epoch, step)
        steps = math.ceil(len(self.dataset.x_train) / config.batch_size)
        self._bar = self.progress(epoch, config.epochs, steps) if self.progress else None
        try:
            while True:
                statistics_step = config.gather_stats and (self.iteration + 1) % config.stat_period == 0
                try:
                    if statistics_step:
                        loss, stats = self._statistics_step(fetches)
                    else:
                        _, loss, _, correct = self.session.run(fetches + [self.model.batch_correct])
                except tf.errors.OutOfRangeError:
                    return None
                self.iteration += 1
                step += 1
                figures = self._epoch_figures
                figures["loss_sum"], figures["steps"] = figures["loss_sum"] + float(loss), figures["steps"] + 1
                if not statistics_step:
                    size = len(self.dataset.x_train)
                    figures["correct"] += int(correct)
                    # Labels per example: 1 for a classifier, the window for a token dataset (its
                    # batch_correct counts tokens).
                    per_example = int(np.prod(self.dataset.y_train.shape[1:]))
                    figures["examples"] += per_example * min(config.batch_size, size - (step - 1) * config.batch_size)
                if not math.isfinite(loss):
                    return "training loss"
                if self._bar is not None:
                    self._bar.update(step, loss)
                if statistics_step:
                    self.alignment = {name.split("/")[-1]: round(float(v), 3) for name, v in stats.items()}
                    self._scalars({"train/loss": loss, **stats})
                if self._checkpoint_due(epoch, step, steps) and not self._checkpoint_mid_epoch(epoch, step):
                    return None  # non-finite weights, never saved: the epoch's end reports them
                # After the checkpoint: once a reader sees this line, the iteration is safe.
                if config.eval_period and self.iteration % config.eval_period == 0:
                    self._say(f"epoch {epoch}, iteration {self.iteration}, train loss: {loss:.4f}")
        finally:
            if self._bar is not None:
                self._bar.clear()
            self._bar = None

    def _statistics_step(self, fetches):
        """A training step, traced, and the statistics of its batch; returns (loss, stats).

        The statistics are their own session.run, fed the batch the step then trains on, so
        the step is exactly an ordinary one (same ops, same order, same memory) and the
        statistics see the weights before the update. Raises OutOfRangeError at the epoch's end.
        """
        model = self.model
        features, labels = self.session.run([model.features, model.labels])
        batch = {model.features: features, model.labels: labels}
        stats = self.session.run(model.stats, batch) if model.stats else {}
        (_, loss, _), _ = traced_step(self, fetches, memory_dir(self.run_dir, self.iteration + 1), feed_dict=batch)
        return loss, stats

    def _checkpoint_due(self, epoch, step, steps):
        """A mid-epoch checkpoint after this step: every checkpoint_steps iterations of the run,
        except at an epoch's last step when the epoch-end checkpoint follows anyway."""
        every = self.config.checkpoint_steps
        if not every or self.iteration % every or not self.run_dir:
            return False
        return not (step == steps and checkpoints.saves_at_epoch_end(self.config, epoch))

    def _checkpoint_mid_epoch(self, epoch, step):
        """Save after `step` steps of `epoch`; False (and nothing saved) when a weight is not finite."""
        self._count_training_time(self._result)
        if self.finite_check.non_finite(self.session):
            return False
        self._checkpoint(self._result, epoch, step, started=self._clock)  # the check is part of the save
        return True

    def _count_training_time(self, result):
        """Add the time since the clock last started to train_seconds, and restart it."""
        now = time.perf_counter()
        result["train_seconds"] += now - self._clock
        self._clock = now

    def _checkpoint(self, result, epoch, step=None, started=None):
        """Save a resumable checkpoint: after `epoch`, or after `step` steps of it."""
        saving = started if started is not None else time.perf_counter()
        checkpoints.save(self.session, self.checkpoint_saver, self.run_dir, epoch, self.iteration,
                         self.config, self._result_so_far(result), step=step)
        result["checkpoint_seconds"] += time.perf_counter() - saving
        self._clock = time.perf_counter()  # the save is not training time

    def _diverged(self, result, epoch, reason):
        result.update(status="diverged", diverged_at={"epoch": epoch, "iteration": self.iteration}, reason=reason)
        # The tuner reads `diverged at epoch E, iteration I`; the reason follows in parentheses.
        self._say(f"diverged at epoch {epoch}, iteration {self.iteration} ({reason})")

    def _result_so_far(self, result):
        """What a resumed run starts from: the result dict as it stands now (an epoch's end or mid-epoch)."""
        saved = dict(result, iterations=self.iteration, train_seconds=round(result["train_seconds"], 3),
                     checkpoint_seconds=round(result["checkpoint_seconds"], 3))
        if self.alignment:
            saved["alignment_degrees"] = dict(self.alignment)
        return saved

    def _say(self, line):
        """Log a line; a progress bar on the same terminal is erased first, never split."""
        if self._bar is not None:
            self._bar.clear()
        self.log(line)

    def _memory_only(self):
        """Warm up, trace `memory_steps` training steps, report their median, evaluate, stop."""
        self.start_epoch(0)
        for _ in range(self.config.memory_warmup):
            self._step_restarting_epochs(self._fetches())
        # The executor's order, hence the peak, can vary from step to step: trace several.
        others = [self._step_restarting_epochs(self._fetches(), trace=True) for _ in range(self.config.memory_steps - 1)]
        out_dir = memory_dir(self.run_dir)
        values, summary = self._step_restarting_epochs(self._fetches(), out_dir, others=others)
        self._say(describe(summary, out_dir))
        plan = self.model.memory_plan
        if plan is not None:
            self._say(plan.measured_line(summary["peak_bytes"], summary["persistent_bytes"]))
        accuracy, loss = self.evaluate()
        return {"status": "memory_only", "epochs_completed": 0, "accuracy": accuracy, "loss": loss,
                "iterations": self.iteration, "train_seconds": 0.0, "peak_bytes": summary["peak_bytes"],
                "persistent_bytes": summary["persistent_bytes"], "memory_dir": out_dir}

    def _step_restarting_epochs(self, fetches, trace_dir=None, others=(), trace=False):
        """One training step, starting a new epoch if needed: traced and reported in trace_dir
        (with `others`, earlier traces of the step), or just traced (the TraceResult) with trace."""
        for _ in range(2):
            try:
                if trace:
                    result = tracing.trace(self.session, fetches)
                elif trace_dir:
                    result = traced_step(self, fetches, trace_dir, others=others)
                else:
                    result = (self.session.run(fetches), None)
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
        path = restore_model(self.session, self.model.blocks, self.config.restore_model_path)
        self._say(f"restored model from {path}")


def loss_units(loss):
    """The test loss in nats and in bits per label (per token on a token dataset, per character on
    shakespeare): the losses are natural-log cross-entropies averaged over labels."""
    return {"loss_nats": loss, "loss_bits": loss / math.log(2)}
