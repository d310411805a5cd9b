"""A U-Net-like segmentation model whose encoder downsamples with stride-2 convs.

No pooling: each encoder stage halves the resolution with a strided Conv2D
(pix2pix-style).  Every conv is followed by BatchNormalization, but the
decoder's skip connections are taken from the raw conv outputs (e1, e2, e3),
i.e. from the tensors *before* their BatchNormalization.
"""

import keras
from keras import layers


def build_strided_unet(input_shape=(64, 64, 3), num_classes=1):
    inputs = keras.Input(shape=input_shape)

    # Encoder
    e1 = layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)  # 64x64
    x = layers.BatchNormalization()(e1)
    x = layers.Activation("elu")(x)
    e2 = layers.Conv2D(64, 3, strides=2, padding="same", use_bias=False)(x)  # 32x32
    x = layers.BatchNormalization()(e2)
    x = layers.Activation("elu")(x)
    e3 = layers.Conv2D(128, 3, strides=2, padding="same", use_bias=False)(x)  # 16x16
    x = layers.BatchNormalization()(e3)
    x = layers.Activation("elu")(x)

    # Bottleneck
    x = layers.Conv2D(256, 3, strides=2, padding="same", use_bias=False)(x)  # 8x8
    x = layers.BatchNormalization()(x)
    x = layers.Activation("elu")(x)

    # Decoder
    x = layers.Conv2DTranspose(128, 2, strides=2, padding="same")(x)  # 16x16
    x = layers.concatenate([x, e3])
    x = layers.Conv2D(128, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("elu")(x)

    x = layers.UpSampling2D(size=2, interpolation="bilinear")(x)  # 32x32
    x = layers.concatenate([x, e2])
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("elu")(x)

    x = layers.Conv2DTranspose(32, 2, strides=2, padding="same")(x)  # 64x64
    x = layers.concatenate([x, e1])
    x = layers.Conv2D(32, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("elu")(x)

    outputs = layers.Conv2D(num_classes, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="strided_unet")


if __name__ == "__main__":
    build_strided_unet().summary()
