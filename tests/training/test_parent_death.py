"""A command armed by training/parent_death.py ends when its parent dies, even by SIGKILL."""
import os
import signal
import subprocess
import sys

import pytest

from tests.training.lock_holder import REPO
from tests.tuner.conftest import alive, wait_for
from training.parent_death import PARENT_ENV

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# The child arms itself from the environment, as experiment does; `watch` forces the fallback
# used where the kernel cannot deliver a signal on the parent's death.
# Once orphaned, a child that lives on says so and leaves (after giving the fallback watch
# several of its looks).
CHILD = ("import os, sys, time\n"
         "from training import parent_death\n"
         "if sys.argv[1] == 'watch':\n"
         "    parent_death._kernel_delivers = lambda sig: False\n"
         "parent = os.getppid()\n"
         "parent_death.end_with_parent_from_env()\n"
         "print('armed', flush=True)\n"
         "while os.getppid() == parent:\n"
         "    time.sleep(0.05)\n"
         "time.sleep(4 * parent_death.WATCH_S)\n"
         "print('lived on', flush=True)\n")
# The parent starts the child (naming itself, as a tuner worker does, when told to), says the
# child's pid, and waits to be killed.
PARENT = ("import os, subprocess, sys, time\n"
          f"env = dict(os.environ, {PARENT_ENV}=str(os.getpid())) if sys.argv[3] == 'named' else os.environ\n"
          "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]], env=env)\n"
          "print(child.pid, flush=True)\n"
          "time.sleep(600)\n")


def kill_parent(how, named):
    """Start a parent and its child, SIGKILL the parent; return (the child's pid, what it printed after)."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, how, named], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    try:
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "armed"  # the child's, on the shared stdout
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        return child, parent.stdout.read()  # until the child, the last writer, ends
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.parametrize("how", ["kernel", "watch"])
def test_a_child_ends_within_seconds_of_its_parents_sigkill(how):
    child, after = kill_parent(how, "named")
    assert after == ""
    wait_for(lambda: not alive(child), timeout=10, what="the child of a dead parent to end")


def test_a_child_whose_parent_died_before_it_armed_ends_at_once():
    # A parent pid that is not this child's parent: it died, and the child was re-parented.
    child = subprocess.run([sys.executable, "-c", CHILD, "kernel"], cwd=REPO, env=dict(os.environ, **{PARENT_ENV: "1"}),
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGTERM and "armed" not in child.stdout


def test_a_run_started_by_hand_is_not_tied_to_its_parent():
    """Without the variable nothing is armed: `nohup experiment ... &` outlives its shell."""
    child, after = kill_parent("kernel", "unnamed")
    assert after == "lived on\n"
