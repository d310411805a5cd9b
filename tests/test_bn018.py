"""BN018 bn-in-gp-critic: BN in the critic that a WGAN-GP gradient penalty differentiates."""
from __future__ import annotations

import pytest

from lintutil import assert_findings

GRADIENT_TAPE_PENALTY = """
import tensorflow as tf
from tensorflow import keras

def build_generator():
    inputs = keras.Input((128,))
    x = keras.layers.Dense(7 * 7 * 64, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Reshape((7, 7, 64))(x))

def build_critic():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

generator = build_generator()
critic = build_critic()

def gradient_penalty(real, fake):
    alpha = tf.random.uniform([tf.shape(real)[0], 1, 1, 1])
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as gp_tape:
        gp_tape.watch(interpolated)
        scores = critic(interpolated, training=True)  # expect: BN018 warning
    grads = gp_tape.gradient(scores, [interpolated])[0]
    return tf.reduce_mean((tf.norm(grads, axis=[1, 2, 3]) - 1.0) ** 2)
"""

SUBCLASSED_WGAN = """
import tensorflow as tf
from tensorflow import keras

class Critic(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(64, 4, strides=2)
        self.norm = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.norm(self.conv(x)))

class WGANGP(keras.Model):
    def __init__(self):
        super().__init__()
        self.critic = Critic()

    def gradient_penalty(self, real, fake):
        alpha = tf.random.normal([tf.shape(real)[0], 1, 1, 1], 0.0, 1.0)
        interpolated = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(interpolated)
            pred = self.critic(interpolated, training=True)  # expect: BN018 warning @self.critic
        return tape.gradient(pred, [interpolated])[0]
"""

LAYER_NORM_CRITIC_AND_PLAIN_GAN = """
import tensorflow as tf
from tensorflow import keras

def build_critic():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    x = keras.layers.LayerNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

def build_discriminator():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(x)))

critic = build_critic()
discriminator = build_discriminator()

def penalty(real, fake):
    interpolated = real + 0.5 * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated)
    return tape.gradient(scores, interpolated)

def plain_step(real):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(discriminator(real, training=True))
    return tape.gradient(loss, discriminator.trainable_variables)
"""


@pytest.mark.parametrize("source", [GRADIENT_TAPE_PENALTY, SUBCLASSED_WGAN, LAYER_NORM_CRITIC_AND_PLAIN_GAN],
                         ids=["functional", "subclassed", "negatives"])
def test_findings(source):
    assert_findings(source, "BN018")
