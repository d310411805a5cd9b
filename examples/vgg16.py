"""A VGG16-style image classifier written out block by block.

Thirteen 3x3 convolutions in five blocks, each block closed by a 2x2 max
pooling, then the classic Flatten -> Dense -> Dense head.  There is no
normalization anywhere, exactly as in Simonyan & Zisserman (2014).
"""

import keras
from keras import layers


def build_vgg16(input_shape=(64, 64, 3), num_classes=10, dense_units=4096):
    inputs = keras.Input(shape=input_shape, name="image")

    # Block 1
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="block1_conv1")(inputs)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="block1_conv2")(x)
    x = layers.MaxPooling2D(2, strides=2, name="block1_pool")(x)

    # Block 2
    x = layers.Conv2D(128, 3, padding="same", activation="relu", name="block2_conv1")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", name="block2_conv2")(x)
    x = layers.MaxPooling2D(2, strides=2, name="block2_pool")(x)

    # Block 3
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="block3_conv1")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="block3_conv2")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="block3_conv3")(x)
    x = layers.MaxPooling2D(2, strides=2, name="block3_pool")(x)

    # Block 4
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block4_conv1")(x)
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block4_conv2")(x)
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block4_conv3")(x)
    x = layers.MaxPooling2D(2, strides=2, name="block4_pool")(x)

    # Block 5
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block5_conv1")(x)
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block5_conv2")(x)
    x = layers.Conv2D(512, 3, padding="same", activation="relu", name="block5_conv3")(x)
    x = layers.MaxPooling2D(2, strides=2, name="block5_pool")(x)

    # Classifier head
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc1")(x)
    x = layers.Dropout(0.5, name="fc1_dropout")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc2")(x)
    x = layers.Dropout(0.5, name="fc2_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)

    return keras.Model(inputs, outputs, name="vgg16")


if __name__ == "__main__":
    build_vgg16().summary()
