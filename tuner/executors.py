"""Where commands run: a process pool on this machine, or an existing Dask cluster.

Both give the runner a concurrent.futures.Executor plus a stop token the workers can reach
(a file for the local pool, a distributed.Event for Dask). The runner itself accepts any
Executor; these are just the two the command line offers.
"""
import contextlib
import dataclasses
import multiprocessing
import os
import signal
import shutil
import threading
import time
import uuid

from tuner.state import new_stop_token_dir
from tuner.worker import GRACE_S, StopFile, expect_parent

EXECUTORS = ("local", "dask")
CONNECT_TIMEOUT_S = 10
ORPHAN_POLL_S = 0.5


class BackendError(ValueError):
    """The executor cannot be set up (Dask missing, scheduler unreachable): bad input, exit 2."""


@dataclasses.dataclass
class Backend:
    executor: object
    stop_token: object


def _init_pool_worker(driver_pid):
    # Pool workers share the terminal's process group. A Ctrl-C or a hangup (a closed
    # terminal) is the driver's to handle: it asks the workers to end their commands through
    # the stop token, so the workers must live on to do it. A handler that does nothing, not
    # SIG_IGN: an ignored signal stays ignored across exec, and the commands (experiment
    # handles SIGHUP and SIGINT) would inherit it; a handler is reset at exec.
    for sig in (signal.SIGINT, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _driver_handles_it)
    # The driver's pid comes from the driver, not from os.getppid() here: a spawned worker
    # imports for a while before this runs, and a driver killed meanwhile would make the
    # worker take init (pid 1) for its driver, run queued commands unsupervised and wait on
    # its queue forever. Such a worker has run nothing yet: it leaves at once.
    # (ARCHITECTURE.md, "Process pools")
    if os.getppid() != driver_pid:
        os._exit(1)
    expect_parent(driver_pid)
    # A driver killed outright (SIGKILL, OOM killer) cannot shut its pool down, and an idle
    # worker would wait on its queue forever. Watch for that and leave, after giving a
    # running command time to be ended by run_command's own check (SIGTERM, grace, SIGKILL).
    threading.Thread(target=_exit_when_orphaned, args=(driver_pid,), daemon=True).start()


def _driver_handles_it(signum, frame):
    pass


def _exit_when_orphaned(driver_pid):
    while os.getppid() == driver_pid:
        time.sleep(ORPHAN_POLL_S)
    time.sleep(GRACE_S + 2)
    os._exit(1)


def _start_resource_tracker():
    """Start multiprocessing's resource tracker, if it does not run yet, with SIGHUP ignored.

    The pool starts it in the driver's process group, and it ignores SIGINT and SIGTERM but
    not SIGHUP: a hangup of the group (a closed terminal) would kill it, and the tracker
    started in its place prints a KeyError traceback for every semaphore it never saw. An
    ignored signal stays ignored across exec, so it is ignored only while the tracker starts.
    """
    hangup = getattr(signal, "SIGHUP", None)
    if os.name != "posix" or hangup is None or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import resource_tracker
    previous = signal.signal(hangup, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(hangup, previous)


def _check_jobs(jobs):
    if jobs < 1:
        raise BackendError(f"--jobs must be at least 1, got {jobs}")


@contextlib.contextmanager
def local_backend(jobs, sweep_dir):
    """A pool of `jobs` worker processes on this machine; its stop token is a file in a directory
    of its own inside `sweep_dir` (tuner/state.py), removed when the pool ends."""
    _check_jobs(jobs)
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: workers must not inherit the driver's threads, locks or open files.
    context = multiprocessing.get_context("spawn")
    _start_resource_tracker()
    token_dir = new_stop_token_dir(sweep_dir)
    try:
        executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_pool_worker,
                                       initargs=(os.getpid(),))
        try:
            yield Backend(executor, StopFile(os.path.join(token_dir, "stop")))
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    finally:
        shutil.rmtree(token_dir, ignore_errors=True)


@contextlib.contextmanager
def dask_backend(scheduler):
    """Commands run on the workers of the Dask scheduler at `scheduler` (tcp://HOST:PORT)."""
    try:
        from distributed import Client, Event
    except ImportError:
        raise BackendError("--executor dask needs Dask distributed: pip install -e '.[dask]' (in the zppmem checkout)") from None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, ValueError, TypeError) as error:
        raise BackendError(f"cannot connect to the Dask scheduler at {scheduler}: {error}") from None
    try:
        # One Event per sweep, named so the workers find it on the scheduler.
        stop_token = Event(f"tuner-stop-{uuid.uuid4().hex}", client=client)
        # pure=False: two submissions of the same command are two runs, never a cached result.
        executor = client.get_executor(pure=False)
        try:
            yield Backend(executor, stop_token)
        finally:
            # The runner has collected every future it waits for; cancel any leftovers
            # rather than hang on a worker that stopped answering.
            executor.shutdown(wait=False)
    finally:
        client.close()


def open_backend(kind, sweep_dir, jobs=1, scheduler=None):
    """The backend's context manager; its arguments are checked now, before anything is made."""
    if kind == "local":
        _check_jobs(jobs)
        return local_backend(jobs, sweep_dir)
    if kind == "dask":
        if not scheduler:
            raise BackendError("--executor dask needs --scheduler tcp://HOST:PORT")
        return dask_backend(scheduler)
    raise BackendError(f"unknown executor {kind!r} (choose from {', '.join(EXECUTORS)})")
