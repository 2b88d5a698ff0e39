"""One process per directory: an OS file lock (flock) held while the process works in it.

The kernel drops the lock when its holder dies, by any signal (SIGKILL, the OOM killer
included), so a crash never leaves a stale lock: the file may stay, and its presence means
nothing. A holder that ends normally removes it, so a finished directory holds only its own
files. The holder writes its pid into the file, so a refusal can name it.

Used for an experiment's run directory (training/run.py) and a sweep's directory
(tuner/state.py). Standard library only: the tuner's workers check a run's lock on every
executor's machines. Where fcntl is missing (Windows) there are no locks and nothing is refused.
"""
import os
import time

try:
    import fcntl
except ImportError:
    fcntl = None

#: A holder writes its pid just after it takes the lock; a reader that finds the file still
#: empty waits this long for it before naming no pid.
_PID_WAIT_S = 1.0


class Busy(Exception):
    """Another process holds the directory's lock; `pid` is its pid (None when it did not say)."""

    def __init__(self, directory, lock_path, pid):
        self.directory, self.lock_path, self.pid = directory, lock_path, pid
        holder = f"pid {pid}" if pid is not None else "another process"
        super().__init__(f"{directory} is in use by {holder} (it holds {lock_path})")


class Held:
    """A lock this process holds; release() (or leaving the `with`) gives it up."""

    def __init__(self, fd, path):
        self._fd, self._path = fd, path

    def release(self):
        if self._fd is None:
            return
        try:
            os.unlink(self._path)  # while still locked: a waiter that opened it retries (acquire)
        except OSError:
            pass
        os.close(self._fd)  # closing the last descriptor drops the flock
        self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def acquire(directory, name):
    """Lock DIRECTORY/NAME for this process and return a Held; Busy when another process has it."""
    path = os.path.join(directory, name)
    if fcntl is None:
        return Held(None, path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The previous holder may have removed the file between our open and our flock:
            # a lock on that file guards nothing (the next process creates a new one).
            if _same_file(fd, path):
                break
        except BlockingIOError:
            os.close(fd)
            raise Busy(directory, path, _read_pid(path)) from None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return Held(fd, path)


def _same_file(fd, path):
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def in_use(directory, name):
    """The Busy that acquire() would raise now, or None when nobody holds DIRECTORY/NAME.

    Probing takes the lock for an instant: a process that tries to take it in that instant is
    refused as if the prober held it. A directory that cannot be probed (missing, read-only)
    is not in use as far as this can tell; acquiring it is where its problem is reported.
    """
    try:
        held = acquire(directory, name)
    except Busy as busy:
        return busy
    except OSError:
        return None
    held.release()
    return None


def _read_pid(path):
    deadline = time.monotonic() + _PID_WAIT_S
    while True:
        try:
            with open(path, encoding="ascii", errors="replace") as handle:
                text = handle.read().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)
