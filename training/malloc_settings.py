"""Keep freed memory in the process: glibc's malloc thresholds, set once when a run starts.

TensorFlow's CPU allocator is the C library's malloc. With glibc's defaults, memory freed at the
top of a heap is handed back to the kernel once more than the trim threshold is free (it starts
at 128 KiB and follows the largest block freed, up to 64 MiB), and blocks above the mmap
threshold get pages of their own that are unmapped when freed. A BP step frees many weight
gradients close together (30 x 1 MiB on long_fc_30): in probes on the 2-core EPYC VM its steps
gave megabytes back and faulted them in again, a page at a time, step after step, in one
process and hardly at all in another, depending on what that process had freed before. So a
type's step time depended on which other graphs shared its process.

Here the trim threshold is set out of reach and the mmap threshold to glibc's largest (32 MiB):
after the first steps a training process reuses what it freed (benchmarks.malloc_settings
counts the faults; the speed-ups it measured are within what separate processes differ by).

The thresholds do not keep the heaps of TensorFlow's worker threads. Their mallocs go to thread
arenas, built of 64 MiB heaps mapped with mmap; a heap that becomes wholly free is unmapped
whatever the trim threshold, and a step that needs it again maps a new one and faults it in page
by page. On long_conv_20 with Eigen's kernels, in processes holding BP and FA, FA's steps did
that about seventy times a step (strace: whole heaps mapped and unmapped), 100,000 minor faults a
step, and took half again BP's time. glibc keeps a heap if the heap below it lacks the top pad's
room, so a top pad of one whole heap keeps every heap (it only reserves address space: pages are
faulted in when used; the main heap grows by as much address space at a time).

The cost: the process keeps its high-water mark (a run's resident memory does not shrink
between epochs). TensorFlow's own accounting (the tracer's records, the memory model) does not
change: only where malloc gets its pages does. `ZPPMEM_MALLOC=default` leaves glibc's
thresholds alone; so does any of glibc's own malloc settings in the environment (MALLOC_*_ or
GLIBC_TUNABLES), which the user meant. Blocks over 32 MiB are still mapped afresh each time.
"""
import ctypes
import ctypes.util
import os

from definitions.errors import ConfigError

ENV = "ZPPMEM_MALLOC"
KEEP, DEFAULT = "keep", "default"
CHOICES = (KEEP, DEFAULT)
#: mallopt's parameter numbers (malloc.h).
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
#: glibc refuses an mmap threshold above half its largest heap: 32 MiB on 64-bit machines.
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2**31 - 1  # an int, as mallopt takes: never trim
#: A thread arena's heap on 64-bit machines (twice the largest mmap threshold).
TOP_PAD = 2 * MMAP_THRESHOLD
#: glibc's own malloc settings in the environment: the user's choice wins over all of ours.
GLIBC_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_",
                   "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST")


def keep_freed_memory(environ=None):
    """Apply the setting ZPPMEM_MALLOC asks for (keep, the default); returns what now holds, in words."""
    environ = os.environ if environ is None else environ
    choice = environ.get(ENV, KEEP).strip().lower()
    if choice not in CHOICES:
        raise ConfigError(f"{ENV}={environ[ENV]!r} is not one of: {', '.join(CHOICES)}")
    if choice == DEFAULT:
        return f"glibc's malloc thresholds ({ENV}={DEFAULT})"
    given = [name for name in GLIBC_VARIABLES if name in environ]
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        given.append("GLIBC_TUNABLES")
    if given:
        return f"the malloc settings of the environment ({', '.join(given)})"
    libc = _glibc()
    if libc is None:
        return "the C library's malloc as it is (not glibc)"
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD))
    if not all(libc.mallopt(parameter, value) == 1 for parameter, value in settings):
        return "glibc's malloc thresholds (mallopt refused the change)"
    return "freed memory kept in the process (malloc trim off, mmap threshold 32 MiB, thread heaps kept)"


def environment_for(choice, environ=None):
    """A copy of the environment for a child process that is to run with `choice` (keep or
    default): ZPPMEM_MALLOC set, glibc's own malloc settings left out (they would win)."""
    environ = os.environ if environ is None else environ
    child = {key: value for key, value in environ.items() if key not in GLIBC_VARIABLES and key != "GLIBC_TUNABLES"}
    child[ENV] = choice
    return child


def _glibc():
    """The process's C library if it is glibc (mallopt's parameters are glibc's), else None."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc
