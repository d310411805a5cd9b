"""An image classifier and a tabular regressor, each with a BatchNormalization on its output:
on the classifier's logits, right before the softmax, and on the regressor's predicted value."""

import keras
from keras import layers


def build_classifier(input_shape=(32, 32, 3), num_classes=10):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = layers.GlobalAveragePooling2D()(x)
    # BN on the pooled features, before the classifier: the usual head
    x = layers.BatchNormalization()(x)
    x = layers.Dense(num_classes, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    outputs = layers.Activation("softmax")(x)
    return keras.Model(inputs, outputs, name="classifier")


def build_regressor(num_features=13):
    return keras.Sequential([
        keras.Input(shape=(num_features,)),
        layers.Dense(64, use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("elu"),
        layers.Dense(1, use_bias=False),
        layers.BatchNormalization(),
    ], name="regressor")


if __name__ == "__main__":
    build_classifier().summary()
    build_regressor().summary()
