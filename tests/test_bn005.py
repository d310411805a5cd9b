"""BN005 bias-before-bn: a bias that the BN right after it cancels."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from fixutil import fixed_text
from lintutil import assert_findings, lint

SEQUENTIAL = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, padding="same"),  # expect: BN005 info
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(32, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.BatchNormalization(),
    layers.Conv2D(64, 3, padding="same"),
    layers.MaxPooling2D(),
    layers.BatchNormalization(),  # a pooled bias is still a per-channel constant
    layers.Conv2D(64, 3, padding="same"),
    layers.Dropout(0.1),
    layers.BatchNormalization(),
    layers.Flatten(),
    layers.Dense(128),  # expect: BN005 info
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
"""
SEQUENTIAL = SEQUENTIAL.replace('    layers.Conv2D(64, 3, padding="same"),\n    layers.MaxPooling2D(),',
                                '    layers.Conv2D(64, 3, padding="same"),  # expect: BN005 info\n'
                                '    layers.MaxPooling2D(),')

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(32, 3, padding="same")(inputs)  # expect: BN005 info
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
y = layers.Conv2D(32, 3, padding="same")(x)
shortcut = y
y = layers.BatchNormalization()(y)
y = layers.Add()([y, shortcut])
z = layers.Conv2D(32, 3, padding="same")(y)
z = layers.ZeroPadding2D()(z)
z = layers.BatchNormalization()(z)
w = layers.Conv2D(32, 3, padding="same", use_bias=True)(z)
w = layers.BatchNormalization()(w)
v = layers.Conv2D(32, 3, padding="same")(w)
v = layers.BatchNormalization(trainable=False)(v)
model = keras.Model(inputs, v)
"""

HELPER_USED_TWO_WAYS = """
import keras
from keras import layers

def conv(x, filters, norm):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    if norm:
        x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)  # expect: BN005 info
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)

def build():
    inputs = keras.Input((32, 32, 3))
    x = conv(inputs, 16, norm=False)
    x = conv(x, 16, norm=True)
    x = conv_bn(x, 32)
    x = conv_bn(x, 32)
    return keras.Model(inputs, x)
"""

SUBCLASSED = """
import tensorflow as tf

class ConvBlock(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = tf.keras.layers.Conv2D(32, 3)  # expect: BN005 info
        self.bn = tf.keras.layers.BatchNormalization()
        self.head = tf.keras.layers.Dense(10, use_bias=False)
        self.head_bn = tf.keras.layers.BatchNormalization()

    def call(self, x):
        x = tf.nn.relu(self.bn(self.conv(x)))
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        return self.head_bn(self.head(x))
"""

TF1_GRAPH_CODE = """
import tensorflow as tf

def network(images, is_training):
    x = tf.compat.v1.layers.conv2d(images, 32, 3)  # expect: BN005 info
    x = tf.compat.v1.layers.batch_normalization(x, training=is_training)
    return tf.nn.relu(x)
"""

WRONG_AXIS_IS_BN001_ALONE = """
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)
    return x
"""


@pytest.mark.parametrize("source", [SEQUENTIAL, FUNCTIONAL, HELPER_USED_TWO_WAYS, SUBCLASSED, TF1_GRAPH_CODE,
                                    WRONG_AXIS_IS_BN001_ALONE],
                         ids=["sequential", "functional", "helper", "subclassed", "tf1", "wrong-axis"])
def test_findings(source):
    assert_findings(source, "BN005")


def test_fix_drops_the_bias_and_its_arguments():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(32, 3, bias_initializer="zeros", bias_regularizer=None)(x)  # stem
        return layers.BatchNormalization()(x)
    """
    fixed = fixed_text(source, select=["BN005"])
    assert "layers.Conv2D(32, 3, use_bias=False)(x)  # stem" in fixed


def test_fix_is_unsafe_and_says_so_where_weights_are_loaded():
    source = """
    import keras
    from keras import layers

    def build():
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(32, 3)(inputs)
        x = layers.BatchNormalization()(x)
        model = keras.Model(inputs, x)
        model.load_weights("converted.h5")
        return model
    """
    [finding] = lint(source, "BN005")
    assert finding.fix is not None and finding.fix.applicability.value == "unsafe"
    assert "checkpoints" in finding.message


def test_cli_info_does_not_fail_and_unsafe_fix_applies(tmp_path):
    model = write(tmp_path / "net.py", """\
        from keras import layers

        def block(x):
            x = layers.Dense(64)(x)
            return layers.BatchNormalization()(x)
        """)
    run = bnlint("--select", "BN005", model, cwd=tmp_path)
    assert run.returncode == 0 and "net.py:4:9: info: BN005" in run.stdout
    bnlint("--select", "BN005", "--fix", "--unsafe-fixes", model, cwd=tmp_path)
    assert "layers.Dense(64, use_bias=False)(x)" in model.read_text()
