"""A small classifier ported layer by layer from a Caffe prototxt.

Caffe's BatchNorm layer only normalizes, so every Caffe model pairs it with a
Scale layer (bias_term: true).  The port below keeps that pairing.
"""

import keras
from keras import layers


class Scale(layers.Layer):
    """Per-channel affine transform, the Keras twin of Caffe's Scale layer."""

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, inputs):
        return inputs * self.gamma + self.beta


class CaffePortNet(keras.Model):
    def __init__(self, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        # conv1 / bn1 / scale1 / relu1
        self.conv1 = layers.Conv2D(32, 3, padding="same", use_bias=False)
        self.bn1 = layers.BatchNormalization(scale=False, center=False)
        self.scale1 = Scale()
        self.relu1 = layers.ReLU()
        # conv2 / bn2 / scale2 / relu2 / pool2
        self.conv2 = layers.Conv2D(64, 3, padding="same", use_bias=False)
        self.bn2 = layers.BatchNormalization(scale=False, center=False)
        self.scale2 = Scale()
        self.relu2 = layers.ReLU()
        self.pool2 = layers.MaxPooling2D()
        # conv3 / bn3 / relu3, then a plain conv4 (added after the port)
        self.conv3 = layers.Conv2D(128, 3, padding="same", use_bias=False)
        self.bn3 = layers.BatchNormalization()
        self.relu3 = layers.ReLU()
        self.conv4 = layers.Conv2D(128, 3, padding="same", activation="relu")
        # classifier
        self.pool = layers.GlobalAveragePooling2D()
        self.fc = layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.conv1(inputs)
        x = self.bn1(x, training=training)
        x = self.scale1(x)
        x = self.relu1(x)

        x = self.conv2(x)
        x = self.bn2(x, training=training)
        x = self.scale2(x)
        x = self.relu2(x)
        x = self.pool2(x)

        x = self.conv3(x)
        x = self.bn3(x, training=training)
        x = self.relu3(x)
        x = self.conv4(x)

        x = self.pool(x)
        return self.fc(x)


def build_caffe_port_net(input_shape=(32, 32, 3), num_classes=10):
    model = CaffePortNet(num_classes=num_classes, name="caffe_port_net")
    model(keras.ops.zeros((1,) + tuple(input_shape)))  # creates the weights
    return model


def build_caffe_port_stem(input_shape=(32, 32, 3), num_classes=10):
    # The same pairing in the functional style.
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(scale=False, center=False)(x)
    x = Scale()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="caffe_port_stem")


if __name__ == "__main__":
    build_caffe_port_net().summary()
    build_caffe_port_stem().summary()
