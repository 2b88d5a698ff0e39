"""A run started by a tuner worker ends when that worker dies, by any signal.

The worker names itself in the environment (PARENT_ENV); the command, once it runs, arranges
to receive SIGTERM when that process is gone, and SIGTERM stops a run as Ctrl-C does
(training/stop_signals.py): after its current step, without a result, resumable. On Linux the
kernel sends it (prctl PR_SET_PDEATHSIG, which even a SIGKILL of the whole process group
cannot dodge); elsewhere a thread watches the parent. Without the variable (a run started by
hand) nothing is armed: `nohup experiment ... &` must outlive the shell that started it.

PR_SET_PDEATHSIG fires when the *thread* that started the child ends: the tuner's workers
start each command from a thread that waits for it (tuner/worker.py), so that is the worker's
lifetime. Standard library only. (ARCHITECTURE.md, "Process pools")
"""
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

#: The pid of the process whose death ends this one, set by tuner/worker.py for its commands.
PARENT_ENV = "ZPPMEM_END_WITH_PARENT"
PR_SET_PDEATHSIG = 1
WATCH_S = 0.5  # how often the fallback watch looks at the parent


def end_with_parent_from_env():
    """Arm end_with_parent for the pid in PARENT_ENV, if any; the variable is not passed on."""
    value = os.environ.pop(PARENT_ENV, "").strip()
    if value.isdigit():
        end_with_parent(int(value))


def end_with_parent(parent_pid, sig=signal.SIGTERM):
    """Receive `sig` once `parent_pid` is no longer this process's parent (it died)."""
    if not _kernel_delivers(sig):
        threading.Thread(target=_watch, args=(parent_pid, sig), daemon=True, name="parent-watch").start()
    # The parent may have died before the kernel was asked: then it is no longer our parent.
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def _kernel_delivers(sig):
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid, sig):
    while os.getppid() == parent_pid:
        time.sleep(WATCH_S)
    os.kill(os.getpid(), sig)
