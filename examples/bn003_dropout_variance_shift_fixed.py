"""A CIFAR-10 CNN built with model.add(), regularized with dropout between blocks."""

import keras
from keras import layers


def build_dropout_cnn(input_shape=(32, 32, 3), num_classes=10):
    model = keras.Sequential(name="dropout_cnn")
    model.add(keras.Input(shape=input_shape))

    # Block 1
    model.add(layers.Conv2D(32, 3, padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("swish"))
    model.add(layers.MaxPooling2D())
    model.add(layers.Dropout(0.1))  # light: below the usual threshold

    # Block 2
    model.add(layers.Conv2D(64, 3, padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.Activation("swish"))
    model.add(layers.MaxPooling2D())

    # Block 3
    model.add(layers.Conv2D(128, 3, padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.Dropout(0.5))
    model.add(layers.Activation("swish"))

    # Classifier
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(num_classes, activation="softmax"))
    return model


if __name__ == "__main__":
    build_dropout_cnn().summary()
