"""The run's input pipelines: tf.data's autotuning off (training/graph.py, `without_autotune`).

Read from the graph: every iterator initialisation (an epoch's start, a resumed epoch's, the
evaluation's) makes its iterator from a dataset whose options disable autotuning, and the
benchmarks' graph is built the same way.
"""
from tensorflow.core.framework import dataset_options_pb2

from definitions.datasets import load_dataset
from training.graph import build_training_graph
from training.run import resolve_config

SMALL = {"dataset_name": "synthetic", "synthetic_shape": [6], "synthetic_classes": 3, "synthetic_size": 60,
         "sequence": "fcTanh", "batch_size": 20, "epochs": 1, "seed": 5}


def autotune_settings(op):
    """autotune.enabled of every OptionsDataset `op` reads from (None where the options leave it unset)."""
    seen, stack, found = set(), [op], []
    while stack:
        current = stack.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if current.type == "OptionsDataset":
            options = dataset_options_pb2.Options.FromString(current.get_attr("serialized_options"))
            autotune = options.autotune_options
            found.append(autotune.enabled if autotune.HasField("enabled") else None)
        stack += [tensor.op for tensor in current.inputs]
    return found


def test_every_iterator_initialisation_reads_a_dataset_without_autotuning():
    config = resolve_config(SMALL, "small", {})
    model = build_training_graph(config, load_dataset(config))
    for init in (model.train_init, model.resume_init, model.eval_init):
        assert autotune_settings(init) == [False], init.name
    # benchmarks.epoch_start's other variant: tf.data's default
    tuned = build_training_graph(config, load_dataset(config), autotune=True)
    assert all(False not in autotune_settings(init) for init in (tuned.train_init, tuned.resume_init, tuned.eval_init))


def test_the_benchmarks_pipeline_is_the_runs():
    from benchmarks import common
    bench = common.Bench(common.mlp(2, width=8), "BP", batch_size=10)
    try:
        inits = [op for op in bench.graph.get_operations() if op.type == "MakeIterator"]
        assert len(inits) == 1 and autotune_settings(inits[0]) == [False]
    finally:
        bench.close()
