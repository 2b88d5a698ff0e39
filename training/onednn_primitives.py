"""Keep oneDNN's convolution-gradient primitives from one step to the next.

With oneDNN's kernels, TensorFlow builds the primitive of every Conv2DBackpropFilter anew each
step and destroys it after, unless TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE=false ("optimize primitive
memory use", true by default, leaves out of its primitive cache the primitives that may hold
large buffers). Building one allocates oneDNN's scratchpad outside TensorFlow's allocator: on
vgg_16 at batch 16 on the EPYC VM, 72 MiB mapped from the kernel and faulted in a page at a time,
about 14,000 page faults and a tenth of every type's step (strace; benchmarks.onednn_primitives
measures it side by side). Kept, the primitive keeps its scratchpad: the process holds it between
steps instead of only during them, so peak resident memory does not change, and TensorFlow's
allocation records (every traced figure) never saw it either way.

Runs, `experiment trace` and the benchmarks set it to false unless the environment already says
otherwise (the user's choice wins). TensorFlow reads it once, when the first oneDNN convolution
runs, and stops the process on a value it cannot read, hence the check here. Eigen's kernels
never read it.
"""
import os

from definitions.errors import ConfigError

ENV = "TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE"
KEEP = "false"  # TensorFlow's spelling: do not "optimize" memory by rebuilding primitives
#: What TensorFlow's ReadBoolFromEnvVar accepts, lower-cased, and whether it means "rebuild";
#: anything else (even "") stops it.
READABLE = {"true": True, "1": True, "false": False, "0": False}


def keep_onednn_primitives(environ=None):
    """Set TF_MKL_OPTIMIZE_PRIMITIVE_MEMUSE=false unless the environment sets it; returns what
    now holds, in words. Call before TensorFlow runs its first op."""
    environ = os.environ if environ is None else environ
    if ENV not in environ:
        environ[ENV] = KEEP
        return f"oneDNN primitives kept between steps ({ENV}={KEEP})"
    given = environ[ENV]
    rebuilds = READABLE.get(given.lower())
    if rebuilds is None:
        raise ConfigError(f"{ENV}={given!r} is not one of: true, false, 1, 0 (TensorFlow would stop on it)")
    if rebuilds:
        return f"oneDNN convolution-gradient primitives rebuilt every step ({ENV}={given!r} in the environment)"
    return f"oneDNN primitives kept between steps ({ENV}={given!r} in the environment)"
