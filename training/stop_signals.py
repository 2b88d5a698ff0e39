"""The signals that stop a run as Ctrl-C does: SIGTERM, and SIGHUP (a closed terminal, a dropped SSH).

`experiment` turns them into Stopped, a KeyboardInterrupt, so a run ends the way Ctrl-C ends
it: after the current step, no result.json, exit 130, resumable. `tuner run` turns them into
its interrupt event. SIGHUP is left alone when the process started with it ignored: that is
what `nohup` asks for, and a run started under nohup must outlive the terminal.

Standard library only: the tuner imports it without TensorFlow.
"""
import contextlib
import signal
import threading


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by a stop signal; `name` is the signal's (SIGTERM, SIGHUP)."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


def stop_signals():
    """SIGTERM, plus SIGHUP unless it is ignored (nohup); SIGHUP does not exist on Windows."""
    found = [signal.SIGTERM]
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
        found.append(hangup)
    return found


def raise_stopped(signum, frame):
    """A handler: end the main thread's work as Ctrl-C would, naming the signal."""
    raise Stopped(signal.Signals(signum).name)


@contextlib.contextmanager
def handling(signals, handler):
    """Install `handler` for `signals` while the block runs, then restore the previous handlers.

    Only the main thread may install handlers; elsewhere (a test runner's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
