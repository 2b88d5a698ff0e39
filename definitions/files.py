"""Atomic writes: a result is either the old file or the whole new one, never half of it.

Write to a temporary file in the same directory, fsync it, rename it over the target, and
fsync the directory so the rename itself survives a crash. Used for results, configs,
checkpoint manifests and sweep state. A shared leaf module (ARCHITECTURE.md, "Imports"): the
standard library only, so tracing and the tuner use it without importing training.
"""
import json
import os
import tempfile


def atomic_write_bytes(path, data):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # mkstemp creates 0600; results are meant to be read like any file the user writes.
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(value):
    # numpy scalars and arrays reach results; json cannot encode them by itself.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def check_output_file(path, option):
    """Refuse, before any work, an output file that could not be written at the end.

    Creates (then removes) a probe in the file's directory, or in the nearest existing parent
    that atomic_write_bytes would create it under: as root, os.access says yes to /proc and
    to read-only mounts, so only a real write tells. Raises ConfigError naming the option.
    """
    from definitions.errors import ConfigError
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConfigError(f"{option} {path!r} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        raise ConfigError(f"{option} {path!r} cannot be written: {directory} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ConfigError(f"{option} {path!r} cannot be written: {directory}: "
                          f"{error.strerror or error}") from None
    return path
