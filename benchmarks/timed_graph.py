"""A graph of kernels timed alone, beside the training steps: what step_floor, conv_kernels and
update_interleave build their graphs from."""
import numpy as np


class TimedGraph:
    """A graph in its own session with a run's settings; run(steps) -> seconds per run, like
    common.Bench, so that it can take turns with the training steps (interleaved_step_times)."""

    def __init__(self, graph, fetch, init, config):
        import tensorflow as tf
        self.fetch = fetch
        self.session = tf.compat.v1.Session(graph=graph, config=config)
        self.session.run(init)

    def run(self, steps=1):
        from benchmarks.common import timed_runs
        return timed_runs(self.session, self.fetch, steps)

    def close(self):
        self.session.close()


def random_variable(rng, *shape, scale=1.0):
    """A float32 tf.Variable of `shape`, standard normal times `scale`, drawn from numpy's `rng`
    (in the graph that is current)."""
    import tensorflow as tf
    return tf.Variable(rng.standard_normal(shape).astype(np.float32) * scale)


def one_element_of_each(tensors):
    """A scalar that reads one element of every tensor, to fetch: Grappler turns an op whose output
    nothing reads (one only a tf.group waits for) into a no-op, and the timing would be of nothing."""
    import tensorflow as tf
    return tf.add_n([tf.reshape(tensor, [-1])[0] for tensor in tensors])
