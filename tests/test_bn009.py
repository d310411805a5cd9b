"""BN009 small-batch: BN models trained on literal batches below 9."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from lintutil import assert_findings, lint

SEQUENTIAL_FIT = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(256, 256, 3)),
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(1, 1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(images, masks, batch_size=2, epochs=50)  # expect: BN009 warning @2
model.fit(images, masks, batch_size=1)  # expect: BN009 error @1
model.fit(images, masks, batch_size=32)
model.evaluate(images, masks, batch_size=1)
model.predict(images, batch_size=1)
"""

FUNCTIONAL_DATASET = """
import tensorflow as tf
from tensorflow import keras

BATCH_SIZE = 4

def build_unet():
    inputs = keras.Input((128, 128, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)

def main():
    model = build_unet()
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(100).batch(BATCH_SIZE)  # expect: BN009 warning @BATCH_SIZE
    train = train.prefetch(tf.data.AUTOTUNE)
    val = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(1)
    test = tf.data.Dataset.from_tensor_slices((tx, ty)).batch(2)
    model.fit(train, validation_data=val, epochs=10)
    model.evaluate(test)
"""

GENERATOR_IN_A_HELPER = """
import keras
from keras import layers
from keras.preprocessing.image import ImageDataGenerator

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)

def build():
    inputs = keras.Input((64, 64, 3))
    return keras.Model(inputs, conv_block(inputs, 32))

def train(model):
    generator = ImageDataGenerator(rotation_range=10)
    batches = generator.flow(x_train, y_train, batch_size=3)  # expect: BN009 warning @3
    model.fit(batches, epochs=5)
"""

SUBCLASSED = """
import tensorflow as tf

class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(8, 3, use_bias=False)
        self.bn = tf.keras.layers.BatchNormalization()

    def call(self, x):
        return self.bn(self.conv(x))

net = Net()
net.compile("sgd", "mse")
net.fit(x, y, batch_size=8)  # expect: BN009 warning @8
net.fit(x, y, batch_size=9)
"""

NO_BN_OR_NOT_LITERAL = """
import keras
from keras import layers

def build():
    inputs = keras.Input((32,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))

model = build()
model.fit(x, y, batch_size=2)
"""

UNKNOWN_BATCH = """
import keras
from keras import layers

def build():
    inputs = keras.Input((32,))
    x = layers.Dense(64, use_bias=False)(inputs)
    return keras.Model(inputs, layers.BatchNormalization()(x))

def main(args):
    model = build()
    model.fit(x, y, batch_size=args.batch_size)
    batch = 2
    batch = 64
    model.fit(x, y, batch_size=batch)
"""


@pytest.mark.parametrize("source", [SEQUENTIAL_FIT, FUNCTIONAL_DATASET, GENERATOR_IN_A_HELPER, SUBCLASSED,
                                    NO_BN_OR_NOT_LITERAL, UNKNOWN_BATCH],
                         ids=["sequential", "functional-dataset", "generator-helper", "subclassed", "no-bn",
                              "unknown"])
def test_findings(source):
    assert_findings(source, "BN009")


def test_batch_one_names_instance_normalization():
    finding = next(d for d in lint(SEQUENTIAL_FIT, "BN009") if d.severity.label == "error")
    assert "GroupNormalization(groups=-1)" in finding.message


def test_cli_fails_the_run(tmp_path):
    model = write(tmp_path / "train.py", SEQUENTIAL_FIT)
    run = bnlint("--select", "BN009", model, cwd=tmp_path)
    assert run.returncode == 1
    assert "train.py:13:37: warning: BN009" in run.stdout
    assert "train.py:14:37: error: BN009" in run.stdout


def test_a_module_with_one_bn_model_does_not_report_the_fits_of_its_other_models():
    # A test module: one model has BN, the small batches train models without any.
    source = """
    import keras
    from keras import layers

    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    def build_normalized():
        inputs = keras.Input((4,))
        return keras.Model(inputs, layers.BatchNormalization()(layers.Dense(3, use_bias=False)(inputs)))

    def test_fit_plain():
        model = Plain()
        model.fit(x, y, batch_size=2)

    def test_fit_normalized():
        model = build_normalized()
        model.fit(x, y, batch_size=2)  # expect: BN009 warning
    """
    assert_findings(source, "BN009")
