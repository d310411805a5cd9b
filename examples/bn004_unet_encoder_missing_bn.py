"""A compact U-Net for binary segmentation (nuclei masks, 64x64 tiles).

Classic layout: two 3x3 convs per stage, 2x2 max pooling down, transposed
convs up, and skip connections concatenated into the decoder.  ELU
activations, conv -> BN -> activation ordering.
"""

import keras
from keras import layers


def build_unet(input_shape=(64, 64, 3), num_classes=1):
    inputs = keras.Input(shape=input_shape)

    # Encoder, stage 1 (64x64)
    c1 = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    c1 = layers.BatchNormalization()(c1)
    c1 = layers.Activation("elu")(c1)
    c1 = layers.Conv2D(16, 3, padding="same", use_bias=False)(c1)
    c1 = layers.BatchNormalization()(c1)
    c1 = layers.Activation("elu")(c1)
    p1 = layers.MaxPooling2D(2)(c1)

    # Encoder, stage 2 (32x32)
    c2 = layers.Conv2D(32, 3, padding="same", use_bias=False)(p1)
    c2 = layers.BatchNormalization()(c2)
    c2 = layers.Activation("elu")(c2)
    c2 = layers.Conv2D(32, 3, padding="same", use_bias=False)(c2)
    c2 = layers.Activation("elu")(c2)
    p2 = layers.MaxPooling2D(2)(c2)

    # Encoder, stage 3 (16x16)
    c3 = layers.Conv2D(64, 3, padding="same", use_bias=False)(p2)
    c3 = layers.BatchNormalization()(c3)
    c3 = layers.Activation("elu")(c3)
    c3 = layers.Conv2D(64, 3, padding="same", use_bias=False)(c3)
    c3 = layers.BatchNormalization()(c3)
    c3 = layers.Activation("elu")(c3)
    p3 = layers.MaxPooling2D(2)(c3)

    # Bottleneck (8x8)
    b = layers.Conv2D(128, 3, padding="same", use_bias=False)(p3)
    b = layers.BatchNormalization()(b)
    b = layers.Activation("elu")(b)
    b = layers.Conv2D(128, 3, padding="same", use_bias=False)(b)
    b = layers.BatchNormalization()(b)
    b = layers.Activation("elu")(b)

    # Decoder, stage 3 (16x16)
    u3 = layers.Conv2DTranspose(64, 2, strides=2, padding="same")(b)
    u3 = layers.concatenate([u3, c3])
    c4 = layers.Conv2D(64, 3, padding="same", use_bias=False)(u3)
    c4 = layers.BatchNormalization()(c4)
    c4 = layers.Activation("elu")(c4)

    # Decoder, stage 2 (32x32)
    u2 = layers.Conv2DTranspose(32, 2, strides=2, padding="same")(c4)
    u2 = layers.concatenate([u2, c2])
    c5 = layers.Conv2D(32, 3, padding="same", use_bias=False)(u2)
    c5 = layers.BatchNormalization()(c5)
    c5 = layers.Activation("elu")(c5)

    # Decoder, stage 1 (64x64)
    u1 = layers.Conv2DTranspose(16, 2, strides=2, padding="same")(c5)
    u1 = layers.concatenate([u1, c1])
    c6 = layers.Conv2D(16, 3, padding="same", use_bias=False)(u1)
    c6 = layers.BatchNormalization()(c6)
    c6 = layers.Activation("elu")(c6)

    outputs = layers.Conv2D(num_classes, 1, activation="sigmoid")(c6)
    return keras.Model(inputs, outputs, name="unet")


if __name__ == "__main__":
    build_unet().summary()
