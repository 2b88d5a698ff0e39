"""Resumable checkpoints: one directory per saved epoch, verified by a manifest of checksums.

    <run dir>/checkpoints/epoch_<E>/model.ckpt.index
                                   /model.ckpt.data-00000-of-00001
                                   /manifest.json      written last: epoch, iteration, shuffle
                                                       state, sha256 of every file, result so far

A checkpoint is written into a hidden temporary directory, every file is fsynced, the manifest
goes in last, and only then is the directory renamed to `epoch_<E>`: a crash at any moment
leaves either the whole checkpoint or none (a `.epoch_<E>.tmp-*` leftover that is ignored).
On resume the newest checkpoint whose manifest verifies is used; a damaged one is reported and
the previous one is tried. The last KEEP checkpoints are kept.

The Saver holds every global variable: weights, optimizer slots (momentum, Adam moments and
powers), stored feedback matrices, batch-norm moving statistics and global_step. The input
pipeline needs no saved state: an epoch's shuffle is a pure function of (seed, epoch)
(training.graph.epoch_shuffle_seed), and checkpoints are taken at epoch boundaries.
"""
import hashlib
import json
import os
import re
import shutil
import time

import tensorflow as tf

from definitions.errors import ConfigError
from definitions.files import _fsync_directory, atomic_write_json
from training.graph import epoch_shuffle_seed

DIRECTORY = "checkpoints"
MANIFEST = "manifest.json"
PREFIX = "model.ckpt"
KEEP = 2
FORMAT = 1
_EPOCH_DIR = re.compile(r"epoch_(\d+)")


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message says why."""


def checkpoint_every(config):
    """Epochs between checkpoints: the config's value, else 1 when there is more than one epoch."""
    if config.checkpoint_every is not None:
        return config.checkpoint_every
    return 1 if config.epochs > 1 else 0


def checkpoint_root(run_dir):
    return os.path.join(run_dir, DIRECTORY)


def make_saver():
    """A Saver of every global variable, built in the current default graph."""
    # max_to_keep=None and write_state=False below: the directories and their pruning are ours.
    return tf.compat.v1.train.Saver(max_to_keep=None, save_relative_paths=True)


def save(session, saver, run_dir, epoch, iteration, config, result):
    """Write checkpoints/epoch_<epoch>/ atomically; returns its path. Prunes old checkpoints."""
    root = checkpoint_root(run_dir)
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"epoch_{epoch}")
    tmp = os.path.join(root, f".epoch_{epoch}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        saver.save(session, os.path.join(tmp, PREFIX), write_meta_graph=False, write_state=False)
        files = {}
        for name in sorted(os.listdir(tmp)):
            path = os.path.join(tmp, name)
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
            files[name] = sha256(path)
        manifest = {
            "format": FORMAT,
            "epoch": epoch,
            "iteration": iteration,
            "shuffle": {"seed": config.seed, "next_epoch": epoch + 1,
                        "next_epoch_seed": epoch_shuffle_seed(config.seed, epoch + 1)},
            "config": config.to_dict(),
            "files": files,
            "result": result,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_json(os.path.join(tmp, MANIFEST), manifest)  # last: its presence means "complete"
        _fsync_directory(tmp)
        if os.path.exists(final):
            # A stale checkpoint of this epoch (a damaged one we fell back from): swap it out.
            old = os.path.join(root, f".epoch_{epoch}.old-{os.getpid()}")
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_directory(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, epoch)
    return final


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
    for epoch, path in reversed(list_checkpoints(root)):
        try:
            manifest = verify(path, expected_epoch=epoch)
            _check_config(manifest, config, path)
            saver.restore(session, os.path.join(path, PREFIX))
        except CheckpointError as error:
            log(f"checkpoint {path} is unusable: {error}; trying the previous one")
            continue
        except tf.errors.OpError as error:
            log(f"checkpoint {path} is unusable: cannot restore it ({str(error).splitlines()[0]}); "
                f"trying the previous one")
            continue
        log(f"resuming from {path} (epoch {manifest['epoch']}, iteration {manifest['iteration']})")
        return manifest
    return None


def list_checkpoints(root):
    """[(epoch, path)] of the complete-looking checkpoint directories, oldest first."""
    found = []
    for name in os.listdir(root) if os.path.isdir(root) else []:
        match = _EPOCH_DIR.fullmatch(name)
        if match and os.path.isdir(os.path.join(root, name)):
            found.append((int(match.group(1)), os.path.join(root, name)))
    return sorted(found)


def verify(path, expected_epoch=None):
    """The manifest of the checkpoint at `path` when every file matches its checksum."""
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
    if expected_epoch is not None and manifest["epoch"] != expected_epoch:
        raise CheckpointError(f"manifest says epoch {manifest['epoch']}, the directory says {expected_epoch}")
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
    changed = sorted(key for key in set(saved) | set(current) if saved.get(key) != current.get(key))
    if changed:
        details = ", ".join(f"{key}: {saved.get(key)!r} -> {current.get(key)!r}" for key in changed)
        raise ConfigError(f"checkpoint {path} was saved by a run with a different config ({details}); "
                          f"restore config.json or start a new run")


def _prune(root, newest):
    """Keep `newest` and the KEEP - 1 checkpoints before it; drop later ones (an abandoned future)."""
    checkpoints = list_checkpoints(root)
    earlier = [path for epoch, path in checkpoints if epoch < newest]
    stale = [path for epoch, path in checkpoints if epoch > newest]
    for path in earlier[:max(len(earlier) - (KEEP - 1), 0)] + stale:
        shutil.rmtree(path, ignore_errors=True)
    for name in os.listdir(root):
        if name.startswith(".") and (".tmp-" in name or ".old-" in name) and not name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
