"""Build everything one run needs inside a fresh tf.Graph: input pipeline, step, evaluation.

The arrays enter through placeholders fed when the iterators are initialised, so the graph (and
the saved meta graph) never embeds the dataset as constants.

Resuming in the middle of an epoch re-initialises the training iterator with `resume_init`:
the same shuffle (same seed placeholder), minus the `skip_batches` batches already trained,
dropped as examples before batching, so no batch is trained twice or reshuffled. An ordinary
epoch start (`train_init`) has no skip in its pipeline at all.
"""
from dataclasses import dataclass

import tensorflow as tf

from training.algorithms import get_algorithm
from training.blocks import forward_blocks
from training.losses import COST_FUNCTIONS
from training.memory_budget import plan_run
from training.optimizers import make_optimizer
from training.preflight import build_sequence

EVAL_BATCH_SIZE = 500


@dataclass
class TrainingGraph:
    graph: tf.Graph
    blocks: list
    step: object  # training.algorithms.Step
    features: tf.Tensor  # the training batch, as the iterator yields it (fed on statistics steps)
    labels: tf.Tensor
    stats: dict  # {name: tensor}; a subgraph beside the step, empty without gather_stats
    features_in: tf.Tensor  # placeholders fed when an iterator is initialised
    labels_in: tf.Tensor
    shuffle_seed: tf.Tensor
    train_init: tf.Operation
    skip_batches: tf.Tensor  # fed to resume_init: batches of the epoch already trained
    resume_init: tf.Operation
    eval_init: tf.Operation
    eval_loss_sum: tf.Tensor
    eval_correct: tf.Tensor
    eval_count: tf.Tensor
    batch_correct: tf.Tensor
    init_op: tf.Operation
    global_step: tf.Variable
    increment_step: tf.Operation
    config: object = None  # the config the graph was built for: with memory_budget, its plan set
    memory_plan: object = None  # training.memory_budget.RunPlan, with memory_budget


def build_training_graph(config, dataset, autotune=False):
    """The whole graph for `config` on `dataset`; raises ConfigError on shapes that do not fit.

    autotune: tf.data's autotuning in the input pipelines; off in runs (`without_autotune`), on
    only where benchmarks.epoch_start measures what it cost."""
    seed = config.seed if config.seed is not None else 0
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        with tf.name_scope("input"):
            features_in = tf.compat.v1.placeholder(tf.float32, [None, *dataset.input_shape], name="features")
            # One label per example, or one per position for a token dataset (the next tokens).
            labels_in = tf.compat.v1.placeholder(tf.int64, [None, *dataset.label_shape], name="labels")
            # Fed per epoch: re-initialising an iterator restarts a fixed-seed shuffle, so a
            # constant seed would give every epoch the same order.
            shuffle_seed = tf.compat.v1.placeholder_with_default(tf.constant(seed, tf.int64), [], name="shuffle_seed")
            shuffled = tf.data.Dataset.from_tensor_slices((features_in, labels_in)) \
                .shuffle(len(dataset.x_train), seed=shuffle_seed)
            tuned = (lambda data: data) if autotune else without_autotune
            train_data = tuned(shuffled.batch(config.batch_size))
            skip_batches = tf.compat.v1.placeholder_with_default(tf.constant(0, tf.int64), [], name="skip_batches")
            resumed = tuned(shuffled.skip(skip_batches * config.batch_size).batch(config.batch_size))
            eval_data = tuned(tf.data.Dataset.from_tensor_slices((features_in, labels_in)).batch(EVAL_BATCH_SIZE))
            train_iterator = tf.compat.v1.data.make_initializable_iterator(train_data)
            eval_iterator = tf.compat.v1.data.make_initializable_iterator(eval_data)
            # The iterator's own MakeIterator op, given the resumed dataset (Iterator.make_initializer
            # does the same through deprecated calls that log warnings on stderr).
            resume_init = tf.raw_ops.MakeIterator(dataset=tf.data.experimental.to_variant(resumed),
                                                  iterator=train_iterator.initializer.inputs[1], name="resume_init")
            features, labels = train_iterator.get_next(name="next_batch")
            # The model reads the batch through these, never the iterator's outputs directly:
            # Grappler folds a conv gradient's shape into a constant with a control dependency
            # on the op that feeds the conv, so a conv reading `features` would run the
            # iterator (and drop a batch) even when a statistics step feeds `features`. A
            # PlaceholderWithDefault is never folded away, and runs on the fed value.
            batch_features = tf.compat.v1.placeholder_with_default(features, features.shape, name="batch_features")
            batch_labels = tf.compat.v1.placeholder_with_default(labels, labels.shape, name="batch_labels")
            one_hot = tf.one_hot(batch_labels, dataset.num_classes)

        blocks = build_sequence(config, dataset)  # ConfigError, naming the layer, if the shapes do not fit
        # With memory_budget, BPCKPT's plan is chosen from these blocks (ConfigError if none fits).
        config, memory_plan = plan_run(config, blocks, dataset)
        loss_fn = COST_FUNCTIONS[config.cost_function]
        algorithm = get_algorithm(config)
        step = algorithm.build(blocks, batch_features, one_hot, loss_fn, lambda: make_optimizer(config))
        stats = algorithm.statistics(blocks, batch_features, one_hot, loss_fn) if config.gather_stats else {}
        with tf.name_scope("metrics"):
            batch_correct = _correct(step.logits, batch_labels)

        with tf.name_scope("eval"):
            eval_features, eval_labels = eval_iterator.get_next()
            eval_logits = forward_blocks(blocks, eval_features, training=False, scope="eval_forward")[-1]
            count = tf.size(eval_labels)  # labels: examples, or tokens (the loss is a mean over them)
            eval_loss_sum = loss_fn(eval_logits, tf.one_hot(eval_labels, dataset.num_classes)) * tf.cast(count, tf.float32)
            eval_correct = _correct(eval_logits, eval_labels)

        global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        increment_step = global_step.assign_add(1)
        init_op = tf.compat.v1.global_variables_initializer()
    return TrainingGraph(graph, blocks, step, features, labels, stats, features_in, labels_in, shuffle_seed,
                         train_iterator.initializer, skip_batches, resume_init, eval_iterator.initializer,
                         eval_loss_sum, eval_correct, count, batch_correct, init_op, global_step, increment_step,
                         config, memory_plan)


def without_autotune(dataset):
    """`dataset` with tf.data's autotuning off.

    These pipelines are a shuffle and a batch: nothing to tune. With autotuning on, an iterator
    runs a tuning thread beside the steps, and re-initialising it (every epoch's start) waited
    for the old one's: on the 2-core EPYC VM, a tenth to half a second at most epoch starts,
    with no CPU used (benchmarks.epoch_start). The benchmarks' pipeline (benchmarks/common.py)
    is built the same way.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def epoch_shuffle_seed(seed, epoch):
    """The shuffle seed of one epoch: a pure function of (run seed, epoch), so resumable."""
    return (seed * 1_000_003 + epoch) % (2**63 - 1)


def _correct(logits, labels):
    return tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=-1), labels), tf.int64))
