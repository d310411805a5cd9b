"""BN015 training-flag: custom training loops without training=True, and training=True baked into a model."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from fixutil import fixed_text
from lintutil import assert_findings

FUNCTIONAL_BUILDER_IN_A_TAPE = """
import tensorflow as tf
from tensorflow import keras

def build_classifier():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))

def build_teacher():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(x)))

def build_plain():
    inputs = keras.Input((28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))

model = build_classifier()
teacher = build_teacher()
plain = build_plain()

@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images)  # expect: BN015 warning
        soft = teacher(images, training=False)
        other = plain(images)
        loss = tf.reduce_mean(logits - soft + other)
    grads = tape.gradient(loss, model.trainable_variables)
"""

SEQUENTIAL_IN_A_LOOP = """
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.layers.Dense(64, use_bias=False),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.Dense(1),
])
for x, y in dataset:
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)  # expect: BN015 warning @model(x)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
"""

SUBCLASSED_TRAIN_STEP = """
import tensorflow as tf

class Generator(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = tf.keras.layers.Dense(64, use_bias=False)
        self.bn = tf.keras.layers.BatchNormalization()

    def call(self, z):
        return self.bn(self.dense(z))

class GAN(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.generator = Generator()

    def train_step(self, data):
        with tf.GradientTape() as tape:
            fake = self.generator(data)  # expect: BN015 warning @self.generator
            real = self.generator(data, training=True)
            loss = tf.reduce_mean(fake - real)
        return {"loss": loss}
"""

LITERAL_TRUE_IN_A_MODEL = """
import keras
from keras import layers

def build():
    inputs = keras.Input((32,))
    x = layers.Dense(64, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x, training=True)  # expect: BN015 warning
    x = layers.Dropout(0.5)(x, training=True)
    return keras.Model(inputs, x)

def test_moving_statistics_update():
    layer = layers.BatchNormalization()
    layer(batch, training=True)
"""


@pytest.mark.parametrize("source", [FUNCTIONAL_BUILDER_IN_A_TAPE, SEQUENTIAL_IN_A_LOOP, SUBCLASSED_TRAIN_STEP,
                                    LITERAL_TRUE_IN_A_MODEL],
                         ids=["functional", "sequential", "subclassed", "literal-true"])
def test_findings(source):
    assert_findings(source, "BN015")


def test_unsafe_fix_passes_training_true():
    fixed = fixed_text(SEQUENTIAL_IN_A_LOOP, select=["BN015"])
    assert "loss = tf.reduce_mean((model(x, training=True) - y) ** 2)" in fixed


def test_cli_warns_and_fails(tmp_path):
    model = write(tmp_path / "loop.py", SEQUENTIAL_IN_A_LOOP)
    run = bnlint("--select", "BN015", model, cwd=tmp_path)
    assert run.returncode == 1 and "loop.py:11:32: warning: BN015" in run.stdout


def test_training_true_in_a_loss_closure_is_a_training_step():
    # A loss function handed to an optimizer runs the layer in training mode on purpose.
    source = """
    import tensorflow as tf

    batchnorm = tf.keras.layers.BatchNormalization()

    def model_fn(x):
        def loss_fn():
            y = batchnorm(x, training=True)
            return tf.reduce_mean(y)
        return optimizer.minimize(loss_fn)
    """
    assert_findings(source, "BN015")
