"""Resumable checkpoints: one directory per saved point, verified by a manifest of checksums.

    <run dir>/checkpoints/epoch_<E>/              after epoch E (every `checkpoint_every` epochs)
    <run dir>/checkpoints/epoch_<E>_step_<S>/     after S steps of epoch E (every `checkpoint_steps`
                                                  iterations of the run)
                         .../model.ckpt.index
                         .../model.ckpt.data-00000-of-00001
                         .../manifest.json        written last: epoch, step, iteration, shuffle
                                                  state, sha256 of every file, result so far

A checkpoint is written into a hidden temporary directory, every file is fsynced, the manifest
goes in last, and only then is the directory renamed into place: a crash at any moment leaves
either the whole checkpoint or none (a `.epoch_<E>....tmp-*` leftover that is ignored). On
resume the newest checkpoint whose manifest verifies is used; a damaged one is reported and the
previous one is tried. The last KEEP checkpoints, of either kind, are kept.

The Saver holds every global variable: weights, optimizer slots (momentum, Adam moments and
powers), stored feedback matrices, batch-norm moving statistics and global_step. The input
pipeline needs no saved state: an epoch's shuffle is a pure function of (seed, epoch)
(training.graph.epoch_shuffle_seed), and a mid-epoch checkpoint records how many of that
epoch's batches were trained, which the resumed pipeline skips.
"""
import errno
import hashlib
import json
import os
import re
import shutil
import time
from typing import NamedTuple, Optional

import tensorflow as tf

from definitions.errors import ConfigError
from definitions.files import _fsync_directory, atomic_write_json
from training.graph import epoch_shuffle_seed

DIRECTORY = "checkpoints"
MANIFEST = "manifest.json"
PREFIX = "model.ckpt"
KEEP = 2
FORMAT = 1
_DIRECTORY_NAME = re.compile(r"epoch_(\d+)(?:_step_(\d+))?")
# TensorFlow reports a failed file operation as a line `<path>; <strerror>` inside its message.
_TF_FILE_ERROR = re.compile(r"^(\S.*?); ([^;\n]+)$", re.M)


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message says why."""


class Checkpoint(NamedTuple):
    """A checkpoint directory: after epoch `epoch` (step None), or after `step` steps of it."""
    epoch: int
    step: Optional[int]
    path: str

    @property
    def order(self):
        # A mid-epoch checkpoint of epoch E comes before the one taken at E's end.
        return (self.epoch, self.step if self.step is not None else float("inf"))


def directory_name(epoch, step=None):
    return f"epoch_{epoch}" if step is None else f"epoch_{epoch}_step_{step}"


def checkpoint_every(config):
    """Epochs between checkpoints: the config's value, else 1 when there is more than one epoch."""
    if config.checkpoint_every is not None:
        return config.checkpoint_every
    return 1 if config.epochs > 1 else 0


def saves_at_epoch_end(config, epoch):
    """Whether a checkpoint is due after `epoch` (see checkpoint_every)."""
    every = checkpoint_every(config)
    return bool(every) and epoch % every == 0


def checkpoint_root(run_dir):
    return os.path.join(run_dir, DIRECTORY)


def make_saver():
    """A Saver of every global variable, built in the current default graph."""
    # max_to_keep=None and write_state=False below: the directories and their pruning are ours.
    return tf.compat.v1.train.Saver(max_to_keep=None, save_relative_paths=True)


def save(session, saver, run_dir, epoch, iteration, config, result, step=None):
    """Write checkpoints/epoch_<epoch>[_step_<step>]/ atomically; returns its path. Prunes old ones.

    step None: epoch `epoch` is complete; else `step` of its batches are trained.
    """
    root = checkpoint_root(run_dir)
    os.makedirs(root, exist_ok=True)
    name = directory_name(epoch, step)
    final = os.path.join(root, name)
    tmp = os.path.join(root, f".{name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        try:
            saver.save(session, os.path.join(tmp, PREFIX), write_meta_graph=False, write_state=False)
        except tf.errors.OpError as error:
            raise as_os_error(error, tmp) from None
        files = {}
        for name in sorted(os.listdir(tmp)):
            path = os.path.join(tmp, name)
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
            files[name] = sha256(path)
        manifest = {
            "format": FORMAT,
            "epoch": epoch,
            "step": step,
            "iteration": iteration,
            "shuffle": _shuffle_state(config.seed, epoch, step),
            "config": config.to_dict(),
            "files": files,
            "result": result,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_json(os.path.join(tmp, MANIFEST), manifest)  # last: its presence means "complete"
        _fsync_directory(tmp)
        if os.path.exists(final):
            # A stale checkpoint of this point (a damaged one we fell back from): swap it out.
            old = os.path.join(root, f".{name}.old-{os.getpid()}")
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_directory(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, Checkpoint(epoch, step, final).order, kept(config))
    return final


def kept(config, finished=False):
    """How many checkpoints to keep: while the run goes, at least KEEP (a damaged newest falls back
    to the one before) and keep_checkpoints when more; once it finished, keep_checkpoints
    (default 1: the last, to restore the model from or continue training). None: all."""
    if config.keep_checkpoints is None:
        return None
    return config.keep_checkpoints if finished else max(KEEP, config.keep_checkpoints)


def prune_finished(run_dir, config):
    """After a run finished: keep only its newest keep_checkpoints checkpoints."""
    root = checkpoint_root(run_dir)
    found = list_checkpoints(root)
    if found:
        _prune(root, found[-1].order, kept(config, finished=True))


def _shuffle_state(seed, epoch, step):
    """The epoch training continues in, its shuffle seed and, mid-epoch, the batches it has done."""
    if step is None:
        return {"seed": seed, "next_epoch": epoch + 1, "next_epoch_seed": epoch_shuffle_seed(seed, epoch + 1)}
    return {"seed": seed, "next_epoch": epoch, "next_epoch_seed": epoch_shuffle_seed(seed, epoch),
            "skip_batches": step}
def as_os_error(error, path):
    """A TensorFlow write failure (disk full, permission) as the OSError it is: path and reason."""
    match = _TF_FILE_ERROR.search(error.message)
    where, reason = match.groups() if match else (path, error.message.strip().splitlines()[0])
    return OSError(errno.EIO, reason, where)


def restore_latest(session, saver, run_dir, config, log):
    """Restore the newest checkpoint that verifies; returns its manifest, or None when there is none.

    Damaged or partial checkpoints are reported through `log` and skipped.
    """
    root = checkpoint_root(run_dir)
    if not os.path.isdir(root):
        return None
    for name in sorted(os.listdir(root)):
        if name.startswith(".") and ".tmp-" in name:
            log(f"ignoring partial checkpoint {os.path.join(root, name)} (its save never completed)")
    for checkpoint in reversed(list_checkpoints(root)):
        path = checkpoint.path
        try:
            manifest = verify(path, expected=checkpoint)
            _check_config(manifest, config, path)
            saver.restore(session, os.path.join(path, PREFIX))
        except CheckpointError as error:
            log(f"checkpoint {path} is unusable: {error}; trying the previous one")
            continue
        except tf.errors.OpError as error:
            log(f"checkpoint {path} is unusable: cannot restore it ({str(error).splitlines()[0]}); "
                f"trying the previous one")
            continue
        step = f", step {manifest['step']}" if manifest.get("step") is not None else ""
        log(f"resuming from {path} (epoch {manifest['epoch']}{step}, iteration {manifest['iteration']})")
        return manifest
    return None


def list_checkpoints(root):
    """[Checkpoint] of the complete-looking checkpoint directories, oldest first."""
    found = []
    for name in os.listdir(root) if os.path.isdir(root) else []:
        match = _DIRECTORY_NAME.fullmatch(name)
        if match and os.path.isdir(os.path.join(root, name)):
            step = int(match.group(2)) if match.group(2) is not None else None
            found.append(Checkpoint(int(match.group(1)), step, os.path.join(root, name)))
    return sorted(found, key=lambda checkpoint: checkpoint.order)


def verify(path, expected=None):
    """The manifest of the checkpoint at `path` when every file matches its checksum.

    `expected`: the Checkpoint its directory name describes; the manifest must agree.
    """
    manifest_path = os.path.join(path, MANIFEST)
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise CheckpointError("it has no manifest.json (an incomplete save)") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"manifest.json cannot be read ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict) or \
            not isinstance(manifest.get("epoch"), int) or not isinstance(manifest.get("iteration"), int) or \
            not isinstance(manifest.get("result"), dict):
        raise CheckpointError("manifest.json lacks epoch, iteration, files or result")
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"manifest format {manifest.get('format')!r} is not {FORMAT}")
    step = manifest.get("step")  # absent in checkpoints written before mid-epoch ones existed
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise CheckpointError(f"manifest step {step!r} is not a positive integer")
    if expected is not None and (manifest["epoch"], step) != (expected.epoch, expected.step):
        raise CheckpointError(f"manifest says {directory_name(manifest['epoch'], step)}, "
                              f"the directory says {directory_name(expected.epoch, expected.step)}")
    names = set(manifest["files"])
    if not any(name.startswith(PREFIX + ".index") for name in names) or \
            not any(name.startswith(PREFIX + ".data-") for name in names):
        raise CheckpointError("manifest.json lists no model.ckpt index and data files")
    for name, digest in sorted(manifest["files"].items()):
        file_path = os.path.join(path, name)
        if os.path.basename(name) != name or not os.path.isfile(file_path):
            raise CheckpointError(f"{name} is missing")
        if sha256(file_path) != digest:
            raise CheckpointError(f"{name} does not match its sha256 in manifest.json (corrupted)")
    return manifest


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_config(manifest, config, path):
    """A checkpoint only continues the run it came from: any changed key is an error, not a fallback."""
    saved = manifest.get("config")
    if not isinstance(saved, dict):
        raise CheckpointError("manifest.json has no config")
    current = config.to_dict()
    # A key added to the config after the checkpoint was saved had its default then.
    defaults = config.__class__().to_dict()
    saved = {key: saved.get(key, defaults.get(key)) for key in set(saved) | set(current)}
    changed = sorted(key for key in saved if saved.get(key) != current.get(key))
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {current.get(key)!r}" for key in changed)
        raise ConfigError(f"checkpoint {path} was saved by a run with a different config ({details}); "
                          f"restore config.json or start a new run")


def _prune(root, newest, keep=KEEP):
    """Keep the checkpoint at order `newest` and the keep - 1 before it (None: all); drop later ones
    (an abandoned future)."""
    checkpoints = list_checkpoints(root)
    earlier = [checkpoint.path for checkpoint in checkpoints if checkpoint.order < newest]
    stale = [checkpoint.path for checkpoint in checkpoints if checkpoint.order > newest]
    dropped = [] if keep is None else earlier[:max(len(earlier) - (keep - 1), 0)]
    for path in dropped + stale:
        shutil.rmtree(path, ignore_errors=True)
    for name in os.listdir(root):
        if name.startswith(".") and (".tmp-" in name or ".old-" in name) and not name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
