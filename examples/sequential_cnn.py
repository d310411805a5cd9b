"""A small binary image classifier in the Sequential style many tutorials use.

Three conv blocks (conv -> BN -> pool -> dropout), then a dense head with its
own BN and a heavier dropout right before the sigmoid output.
"""

import keras
from keras import layers


def build_sequential_cnn(input_shape=(64, 64, 3)):
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Conv2D(128, (3, 3), activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="sequential_cnn",
    )
    return model


if __name__ == "__main__":
    build_sequential_cnn().summary()
