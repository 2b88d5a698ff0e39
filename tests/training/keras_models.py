"""Keras models for the conversion tests, importable as `tests.training.keras_models:<function>`."""
import keras

L = keras.layers


def every_layer(output_size):
    """Every supported Keras layer, with settings away from the defaults where they exist."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((12, 12, 2)),
        L.Conv2D(6, 3, strides=1, padding="same", use_bias=True, activation="tanh"),
        L.BatchNormalization(momentum=0.8, epsilon=1e-2),
        L.LeakyReLU(negative_slope=0.1),
        L.MaxPooling2D(2),
        L.Conv2D(8, (3, 2), strides=(2, 1), padding="valid", use_bias=False),
        L.ReLU(),
        L.AveragePooling2D(2, padding="same"),
        L.Flatten(),
        L.Dense(16, activation="sigmoid"),
        L.Activation("relu"),
        L.Dense(output_size),
    ], name="every_layer")


def global_pool(output_size):
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, padding="same", activation="relu"),
                             L.GlobalAveragePooling2D(), L.Dense(output_size, activation="softmax")],
                            name="global_pool")


def with_dropout(output_size):
    return keras.Sequential([keras.Input((8, 8, 1)), L.Flatten(), L.Dense(16), L.Dropout(0.5),
                             L.Dense(output_size)], name="with_dropout")
