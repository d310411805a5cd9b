"""Small CIFAR-sized classifiers, one of them laid out channels-first (NCHW).

The NCHW model was ported from a framework whose tensors are channels-first,
so every conv and the pooling say data_format="channels_first".
"""

import tensorflow as tf
from tensorflow.keras import layers


def build_nchw_classifier(input_shape=(3, 32, 32), num_classes=10):
    inputs = tf.keras.Input(shape=input_shape)

    x = layers.Conv2D(16, 3, padding="same", use_bias=False, data_format="channels_first")(inputs)
    x = layers.BatchNormalization(axis=1)(x)
    x = layers.Activation("swish")(x)

    x = layers.Conv2D(64, 3, strides=2, padding="same", use_bias=False, data_format="channels_first")(x)
    x = layers.BatchNormalization(axis=1)(x)
    x = layers.Activation("swish")(x)

    x = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    # Rank-2 features from here on: the default axis is the feature axis.
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="nchw_classifier")


def build_nhwc_classifier(input_shape=(32, 32, 3), num_classes=10):
    # Same network in the default channels-last layout, written by someone
    # used to NCHW tensors.
    inputs = tf.keras.Input(shape=input_shape)

    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=-1)(x)
    x = layers.Activation("swish")(x)

    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="nhwc_classifier")


def build_portable_classifier(input_shape=None, num_classes=10):
    # Follows whatever image_data_format() says: correct in both layouts.
    bn_axis = 1 if tf.keras.backend.image_data_format() == "channels_first" else 3
    if input_shape is None:
        input_shape = (3, 32, 32) if bn_axis == 1 else (32, 32, 3)
    inputs = tf.keras.Input(shape=input_shape)

    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=bn_axis)(x)
    x = layers.Activation("swish")(x)

    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="portable_classifier")


if __name__ == "__main__":
    build_nchw_classifier().summary()
    build_nhwc_classifier().summary()
    build_portable_classifier().summary()
