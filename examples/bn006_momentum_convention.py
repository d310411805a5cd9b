"""A ResNet-style stem ported from PyTorch: its BN momentum keeps PyTorch's convention.

PyTorch's momentum=0.1 means "10% of the new batch"; Keras's momentum is the weight
of the old average, so the same number keeps only 10% of the history.
"""
import keras
from keras import layers

BN_MOMENTUM = 0.1  # copied from the reference implementation


def conv_bn_relu(x, filters, strides=1):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=1e-3)(x)
    return layers.ReLU()(x)


def build_stem(input_shape=(224, 224, 3)):
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_relu(inputs, 32, strides=2)
    x = conv_bn_relu(x, 64)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.1)(x)
    x = layers.ReLU()(x)
    return keras.Model(inputs, x, name="stem")
