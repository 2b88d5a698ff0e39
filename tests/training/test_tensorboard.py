"""A gather_stats run's event file, read by TensorBoard's own reader (the `tensorboard` extra).

What TensorBoard shows must be what the run measured: the scalars equal the printed epoch lines
and result.json, and the run metadata of each traced step is the trace its memory report came from.
"""
import csv
import re

import pytest
from tensorboard.backend.event_processing import event_accumulator

from training.run import resolve_config, run_experiment

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 60,
         "sequence": "fcTanh", "batch_size": 20, "epochs": 2, "learning_rate": 0.1, "optimizer": "momentum",
         "seed": 5, "stat_period": 2, "type": "DFA", "gather_stats": True}


def test_tensorboard_reads_the_scalars_and_the_traced_steps(tmp_path):
    lines = []
    run_dir, result = run_experiment(resolve_config(SMALL, "small", {}), str(tmp_path), log=lines.append)
    events = event_accumulator.EventAccumulator(
        run_dir, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.RUN_METADATA: 0})
    events.Reload()
    tags = events.Tags()

    def series(tag):
        return [(event.step, event.value) for event in events.Scalars(tag)]

    # 60 examples in batches of 20: 3 iterations an epoch, statistics every 2nd iteration.
    assert sorted(tags["scalars"]) == ["alignment/block_0", "alignment/block_1", "alignment/block_2",
                                       "test/accuracy", "test/loss", "train/loss"]
    printed = [tuple(map(float, match)) for match in
               re.findall(r"finished epoch \d+, accuracy: ([\d.]+)%, loss: ([\d.]+)", "\n".join(lines))]
    assert [step for step, _ in series("test/accuracy")] == [3, 6]
    assert [round(value, 2) for _, value in series("test/accuracy")] == [accuracy for accuracy, _ in printed]
    assert [round(value, 4) for _, value in series("test/loss")] == [loss for _, loss in printed]
    assert series("test/accuracy")[-1][1] == pytest.approx(result["accuracy"], abs=1e-4)
    assert [step for step, _ in series("train/loss")] == [2, 4, 6]
    for block, degrees in result["alignment_degrees"].items():
        steps, values = zip(*series(f"alignment/{block}"))
        assert steps == (2, 4, 6) and values[-1] == pytest.approx(degrees, abs=1e-3)

    assert tags["run_metadata"] == ["iteration_2", "iteration_4", "iteration_6"]
    for tag in tags["run_metadata"]:
        traced = {node.node_name for device in events.RunMetadata(tag).step_stats.dev_stats
                  for node in device.node_stats}
        with open(f"{run_dir}/memory/{tag}/nodes.csv", newline="") as handle:
            reported = {row["node_name"] for row in csv.DictReader(handle)}
        assert traced == reported and any(name.startswith("backward/") for name in traced)
