"""A small CNN whose conv helper normalizes its output and whose stages normalize it again,
and an MLP with a LayerNormalization right after its BatchNormalization."""

import keras
from keras import layers


def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return x


def build_stacked_cnn(input_shape=(64, 64, 3), num_classes=5):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for filters in (32, 64, 128):
        x = conv_bn(x, filters)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("elu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="stacked_cnn")


def build_mlp(num_features=20):
    return keras.Sequential([
        keras.Input(shape=(num_features,)),
        layers.Dense(128, use_bias=False),
        layers.BatchNormalization(),
        layers.LayerNormalization(),
        layers.Activation("gelu"),
        layers.Dense(1),
    ], name="mlp")


if __name__ == "__main__":
    build_stacked_cnn().summary()
    build_mlp().summary()
