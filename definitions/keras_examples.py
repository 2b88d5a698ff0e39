"""Keras 3 models on the digits, for `experiment trace` and for training with any type.

    experiment trace definitions.keras_examples:digits_trace --output_dir runs --id keras_digits
    experiment --sequence definitions.keras_examples:digits_convnet --type DFA --epochs 5

`digits_convnet(output_size)` is a sequence that returns a Keras Sequential (converted to the
project's layers with its weights, training/keras_convert.py); `digits_trace(batch_size)` returns
that model compiled, with one batch of the digits, as `experiment trace` expects. Keras and
TensorFlow are imported when the functions run.
"""
DIGITS_SHAPE = (8, 8, 1)


def digits_convnet(output_size, seed=0):
    """liao_mnist_bn, narrower, in Keras: two convolutions (max pooling, ReLU, batch norm after
    each) and a hidden dense layer, the shape of network DFA is known to train."""
    import keras
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(DIGITS_SHAPE),
        layers.Conv2D(16, 5, padding="same", use_bias=False),
        layers.MaxPooling2D(3, strides=2, padding="same"), layers.ReLU(), layers.BatchNormalization(momentum=0.9),
        layers.Conv2D(32, 5, padding="same", use_bias=False),
        layers.MaxPooling2D(3, strides=2, padding="same"), layers.ReLU(), layers.BatchNormalization(momentum=0.9),
        layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.BatchNormalization(momentum=0.9),
        layers.Dense(output_size),
    ], name="digits_convnet")


def digits_trace(batch_size=64):
    """The convnet compiled with Adam, and the first `batch_size` digits of the training split."""
    import keras

    from definitions.datasets import load_digits
    dataset = load_digits()
    model = digits_convnet(dataset.num_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model, (dataset.x_train[:batch_size], dataset.y_train[:batch_size])
