"""A Keras Sequential as the project's layers: the same function, the same weights; trained with
DFA and DFAMEM on the digits; an unsupported layer is one Error line."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from tests.training import keras_models  # noqa: E402
from training.cli import main  # noqa: E402
from training.keras_convert import SUPPORTED, from_keras  # noqa: E402

MODELS = "tests.training.keras_models"


def moved_batch_norm_statistics(model):
    """Moving statistics away from (0, 1), so that evaluation mode tests them."""
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.5, layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
            layer.gamma.assign(rng.uniform(0.5, 1.5, layer.gamma.shape))
            layer.beta.assign(rng.normal(0, 0.5, layer.beta.shape))


def project_outputs(layers, x):
    """The converted layers' outputs on x, in evaluation and in training mode, in a Session."""
    graph = tf.Graph()
    with graph.as_default():
        features = tf.constant(x)
        outputs = {}
        for training in (False, True):
            y = features
            for layer in layers:
                y = layer.forward(y, training=training)
            outputs[training] = y
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            return session.run(outputs)


@pytest.mark.parametrize("make_model, shape", [(keras_models.every_layer, (12, 12, 2)),
                                               (keras_models.global_pool, (8, 8, 1))])
def test_the_converted_model_computes_what_keras_computes(make_model, shape):
    model = make_model(5)
    moved_batch_norm_statistics(model)
    x = np.random.default_rng(0).normal(size=(6, *shape)).astype(np.float32)
    layers = from_keras(model)
    ours = project_outputs(layers, x)
    for training in (False, True):
        theirs = model(x, training=training).numpy()
        np.testing.assert_allclose(ours[training], theirs, rtol=1e-4, atol=1e-5, err_msg=f"training={training}")
    # The flattening moved into the Dense after Flatten; activations became layers of their own.
    names = [type(layer).__name__ for layer in layers]
    if make_model is keras_models.every_layer:
        assert names == ["ConvolutionalLayer", "Tanh", "BatchNormalization", "LeakyReLu", "MaxPool",
                         "ConvolutionalLayer", "ReLu", "AveragePool", "FullyConnected", "Sigmoid", "ReLu",
                         "FullyConnected"]
        assert layers[8].flatten and layers[3].alpha == pytest.approx(0.1)


def test_an_unsupported_layer_is_one_error_line_naming_it_and_the_supported_ones(tmp_path):
    result = CliRunner().invoke(main, ["--sequence", f"{MODELS}:with_dropout", "--epochs", "1",
                                       "--output_dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: sequence 'tests.training.keras_models:with_dropout': Keras layer 3 Dropout")
    assert all(name in line for name in SUPPORTED)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("algorithm", ["DFA", "DFAMEM"])
def test_a_keras_convnet_learns_the_digits_with(algorithm, tmp_path):
    result = CliRunner().invoke(main, ["--sequence", "definitions.keras_examples:digits_convnet", "--type",
                                       algorithm, "--epochs", "1", "--seed", "1", "--output_dir", str(tmp_path),
                                       "--id", "run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    accuracy = json.loads((tmp_path / "run" / "result.json").read_text())["accuracy"]
    assert accuracy > 0.85  # chance is 0.1


def test_the_converted_model_starts_from_the_keras_weights(tmp_path):
    """A run of 0 steps' worth: the trainer's variables before training are Keras' weights."""
    from definitions.config import validate
    from definitions.datasets import load_dataset
    from training.preflight import build_sequence
    config = validate({"sequence": "definitions.keras_examples:digits_convnet", "name": "keras"})
    graph = tf.Graph()
    with graph.as_default():
        blocks = build_sequence(config, load_dataset(config))
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            ours = [session.run(v) for block in blocks for layer in block.layers
                    for v in layer.variables + layer.non_trainable_variables]
    from definitions.keras_examples import digits_convnet
    model = digits_convnet(10)
    theirs = [w.numpy() for layer in model.layers for w in layer.weights]
    # Same multiset of arrays (BatchNormalization's order is gamma, beta, mean, variance in both).
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_experiment_plan_predicts_the_converted_model():
    result = CliRunner().invoke(main, ["plan", "--sequence", "definitions.keras_examples:digits_convnet",
                                       "--types", "DFA,DFAMEM"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()[-2:]] == ["DFA", "DFAMEM"]
