"""Measure what the memory model predicts: the traced peak and the persistent bytes of a config.

`experiment plan --verify` runs this for each row: the run's own graph (the Trainer's), on
random data of the dataset's shape (memory depends on shapes, not values, so no data file is
needed), `memory_warmup` steps, then `steps` traced ones; the peak is their median, as the
benchmarks take it. Nothing is written to disk.
"""
import statistics

import tracing
from definitions.datasets import shaped_like
from tracing.timeline import busiest_device, peak_bytes, split_by_device, timeline_points


def measure(config, steps=3):
    """(median transient peak, persistent bytes) of config's training step, traced."""
    from training.trainer import Trainer

    needed = config.batch_size * (config.memory_warmup + steps + 1)
    data = shaped_like(config, needed, seed=config.seed or 0)
    trainer = Trainer(config, data, run_dir=None, log=lambda line: None)
    try:
        with trainer.model.graph.as_default():
            trainer.session.run(trainer.model.init_op)
        trainer.start_epoch(0)
        for _ in range(config.memory_warmup):
            trainer.session.run(trainer._fetches())
        peaks = [_peak(tracing.trace(trainer.session, trainer._fetches()).records) for _ in range(steps)]
        return int(statistics.median(peaks)), tracing.persistent_bytes(trainer.model.graph)
    finally:
        trainer.close()


def _peak(records):
    points = {device: timeline_points(recs, 0) for device, recs in split_by_device(records).items()}
    return peak_bytes(points[busiest_device(points)]) if points else 0
