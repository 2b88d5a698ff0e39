"""Another process holding a run directory's lock, as a running experiment does (no TensorFlow)."""
import contextlib
import os
import signal
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLD = ("import sys, time\n"
        "from training.run_dir import lock_run_dir\n"
        "held = lock_run_dir(sys.argv[1])\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n")


@contextlib.contextmanager
def holding(run_dir):
    """A process that holds run_dir's lock until the block ends (it is SIGKILLed then, if alive)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
