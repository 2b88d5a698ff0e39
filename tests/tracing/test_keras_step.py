"""A Keras 3 train_step imported into a Session and traced: the step is the real one, and the
report's figures are the sizes computed by hand.

Two small models (one TensorFlow start for the module): an MLP and a convnet that mirror the
shipped fcReLu and experiment_mnist_conv, at small widths and batch.
"""
from collections import Counter

import numpy as np
import pytest

from tests.tracing.chrome_trace_checks import read_trace, slice_counts, slice_tuples, tensorflow_op_slices
from tests.tracing.report_checks import ISSUE_ACTIVATION_COLUMNS, ISSUE_NODE_COLUMNS, check_png, read_csv
from tracing.chrome_trace import STEP_COUNTER

pytestmark = pytest.mark.kernels  # what the kernels keep and allocate

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
L = keras.layers

from tracing.keras_step import build_for_step, keras_train_step, run_traced, trace_keras, write_report  # noqa: E402
from tracing.tf_step_import import import_step  # noqa: E402

BATCH, FLOAT32, CLASSES = 8, 4, 10


def batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, 28, 28, 1), dtype=np.float32), np.arange(BATCH) % CLASSES


def mlp():
    """fcReLu: Dense(256), ReLU, Dense(256), ReLU, Dense(classes), on flattened digits."""
    return keras.Sequential([keras.Input((28, 28, 1)), L.Flatten(), L.Dense(256, activation="relu"),
                             L.Dense(256, activation="relu"), L.Dense(CLASSES)], name="fc")


def convnet():
    """experiment_mnist_conv without biases on the convolutions, as the shipped one."""
    return keras.Sequential([keras.Input((28, 28, 1)),
                             L.Conv2D(32, 5, padding="same", use_bias=False), L.MaxPooling2D(2, padding="same"),
                             L.ReLU(), L.Conv2D(64, 5, padding="same", use_bias=False),
                             L.MaxPooling2D(2, padding="same"), L.ReLU(), L.Flatten(),
                             L.Dense(512, activation="relu"), L.Dense(CLASSES)], name="conv")


def batch_norm_convnet():
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 3, padding="same"), L.BatchNormalization(),
                             L.ReLU(), L.AveragePooling2D(2), L.GlobalAveragePooling2D(), L.Dense(CLASSES)],
                            name="bn_conv")


def compiled(model, optimizer):
    keras.utils.set_random_seed(1)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def imported_step_values(model, x, y):
    """The model's variables after one imported step in a Session, by name."""
    data = (tf.constant(x), tf.constant(y))
    build_for_step(model, *data)
    step = import_step(keras_train_step(model), (data,))
    with tf.compat.v1.Session(graph=step.graph) as session:
        session.run(step.init_op, feed_dict=step.init_feed)
        session.run(step.fetches, feed_dict=dict(zip(step.feeds, (x, y))))
        return session.run({name: variable.value() for name, variable in step.variables.items()})


@pytest.mark.parametrize("make_model, optimizer", [(mlp, lambda: keras.optimizers.Adam(0.01)),
                                                   (batch_norm_convnet, lambda: keras.optimizers.SGD(0.1, 0.9))],
                         ids=["adam", "batch_norm"])
def test_an_imported_step_updates_the_variables_as_train_on_batch_does(make_model, optimizer):
    x, y = batch()
    model = compiled(make_model(), optimizer())
    imported = imported_step_values(model, x, y)
    before = {v.path: v.numpy() for v in model.variables}
    model.train_on_batch(x, y)
    # The imported copies are named as TensorFlow names the variables under Keras'.
    eager = {v.value.name.split(":")[0]: v.numpy() for v in [*model.variables, *model.optimizer.variables]}
    compared = [name for name in imported if name in eager]
    # weights, optimizer slots, the iteration count, batch-norm moving statistics
    assert len(compared) >= len(model.variables) + len(model.optimizer.variables) - 1
    for name in compared:
        np.testing.assert_allclose(imported[name], eager[name], rtol=2e-5, atol=1e-6, err_msg=name)
    assert any(not np.allclose(before[v.path], v.numpy()) for v in model.trainable_variables)
    if make_model is batch_norm_convnet:
        assert any("moving_mean" in name for name in compared)


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """(summary, out dir, the last traced run) of the MLP and the convnet, one traced step each."""
    x, y = batch()
    found = {}
    for make_model in (mlp, convnet):
        model = compiled(make_model(), keras.optimizers.SGD(0.1))
        out = tmp_path_factory.mktemp(model.name)
        data = (tf.constant(x), tf.constant(y))
        build_for_step(model, *data)
        step = import_step(keras_train_step(model), (data,))
        results = run_traced(step, (data,), warmup=2, steps=1)
        summary = write_report(step, results, str(out), {"network": model.name})
        found[model.name] = (summary, out, results[-1])
    return found


def kept_sizes(out):
    return [int(row["size_bytes"]) for row in read_csv(out / "activations.csv", ISSUE_ACTIVATION_COLUMNS)]


def test_the_mlp_keeps_its_hidden_outputs_and_the_loss_gradient_for_the_backward(traced):
    _, out, _ = traced["fc"]
    # The input is fed (no allocation); the logits are read by the loss only.
    assert sorted(kept_sizes(out)) == sorted([BATCH * 256 * FLOAT32] * 2 + [BATCH * CLASSES * FLOAT32])


def test_the_convnet_keeps_each_layer_output_for_the_backward(traced):
    _, out, _ = traced["conv"]
    conv_1, pool_1 = BATCH * 28 * 28 * 32, BATCH * 14 * 14 * 32
    conv_2, pool_2 = BATCH * 14 * 14 * 64, BATCH * 7 * 7 * 64
    # MaxPoolGrad reads its input and output; ReLU's gradient its output, which cannot alias
    # the pool's output that MaxPoolGrad still needs.
    expected = [conv_1, pool_1, pool_1, conv_2, pool_2, pool_2, BATCH * 512, BATCH * CLASSES]
    assert sorted(kept_sizes(out)) == sorted(size * FLOAT32 for size in expected)


def test_every_op_is_placed_by_what_keras_and_the_tape_name(traced):
    summary, out, _ = traced["conv"]
    rows = read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS)
    for row in rows:
        name = row["node_name"]
        if "gradient_tape" in name.split("/"):
            assert (row["category"], row["phase"]) == ("gradient", "backward"), row
        if name.startswith("forward/conv_1/"):
            assert row["phase"] == "forward", row
        if name.startswith("update/sgd/Assign"):
            assert row["category"] == "update", row
        if name.startswith("metrics/"):
            assert (row["category"], row["phase"]) == ("other", "other"), row
    phases = Counter(row["phase"] for row in rows if int(row["bytes_allocated"]))
    assert phases["forward"] and phases["backward"]
    # SGD's update allocates nothing when its ops run one at a time: lr * gradient is written
    # into the gradient's buffer, which nothing else reads any more.
    assert any(row["phase"] == "update" for row in rows)
    assert summary["peak_bytes_by_category"]["gradient"] > 0


def test_trace_json_has_the_slices_of_tensorflow_own_chrome_trace(traced):
    summary, out, result = traced["fc"]
    ours = read_trace(out / "trace.json")
    assert slice_tuples(ours) == tensorflow_op_slices(result.run_metadata, summary["step_start_unix_us"])
    assert slice_counts(ours) == Counter(row["node_name"] for row in read_csv(out / "nodes.csv", ISSUE_NODE_COLUMNS))
    [pid] = ours.process_names
    assert ours.counter_max(pid, f"{STEP_COUNTER} bytes") == summary["peak_bytes"]
    check_png(out / "timeline.png")


def test_trace_keras_writes_the_median_of_its_traced_steps(tmp_path):
    x, y = batch()
    model = compiled(mlp(), keras.optimizers.Adam())
    weights = [v.numpy() for v in model.weights]
    summary = trace_keras(model, x, y, output_dir=str(tmp_path / "mlp"), warmup=1, steps=3)
    assert summary["traced_steps"] == 3
    assert summary["peak_bytes"] == sorted(summary["peak_bytes_per_step"])[1]
    assert summary["network"] == "fc" and summary["batch_size"] == BATCH
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(weights, model.weights))  # the model is untouched
    # Adam's two slots per weight are persistent optimizer state.
    weight_bytes = sum(int(np.prod(v.shape)) * FLOAT32 for v in model.trainable_variables)
    assert summary["persistent_bytes"] >= 3 * weight_bytes
