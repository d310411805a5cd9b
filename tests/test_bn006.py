"""BN006 momentum-convention: a PyTorch-style momentum below 0.5, however the value reaches the layer."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from fixutil import fixed_text
from lintutil import assert_findings, lint

HELPER_PARAMETER = """
from keras.layers import BatchNormalization, Conv2D, Input, ReLU
from keras.models import Model

def bn_conv_relu(inputs, filters, bachnorm_momentum):
    x = BatchNormalization(momentum=bachnorm_momentum)(inputs)  # expect: BN006 error
    x = Conv2D(filters, 3, padding="same")(x)
    return ReLU()(x)

def satellite_unet(input_shape):
    bachnorm_momentum = 0.01
    inputs = Input(input_shape)
    x = bn_conv_relu(inputs, 64, bachnorm_momentum)
    x = bn_conv_relu(x, 64, bachnorm_momentum)
    return Model(inputs, x)
"""

SEQUENTIAL_MODULE_CONSTANT = """
import keras
from keras import layers

BN_MOMENTUM = 0.1

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(momentum=BN_MOMENTUM),  # expect: BN006 error
    layers.ReLU(),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(momentum=0.9),
    layers.ReLU(),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(momentum=0.99),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(momentum=0.997),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),
])
"""

PARTIAL_AND_SPREAD_DICT = """
import functools
import keras
from keras import layers

def build():
    inputs = keras.Input((32, 32, 3))
    norm = functools.partial(layers.BatchNormalization, momentum=0.2, epsilon=1e-3)
    x = layers.Conv2D(16, 3, use_bias=False)(inputs)
    x = norm()(x)  # expect: BN006 error @norm
    bn_params = {"momentum": 0.3, "epsilon": 1e-3}
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    x = layers.BatchNormalization(**bn_params)(x)  # expect: BN006 error
    good_params = {"momentum": 0.9}
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    x = layers.BatchNormalization(**good_params)(x)
    return keras.Model(inputs, x)
"""

SUBCLASSED_ATTRIBUTE_FROM_DEFAULT = """
import tensorflow as tf

class HourglassBlock(tf.keras.layers.Layer):
    def __init__(self, filters, norm_momentum=0.1, **kwargs):
        super().__init__(**kwargs)
        self._norm_momentum = norm_momentum
        self.conv = tf.keras.layers.Conv2D(filters, 3, use_bias=False)
        self.norm = tf.keras.layers.BatchNormalization(momentum=self._norm_momentum)  # expect: BN006 error

    def call(self, x):
        return tf.nn.relu(self.norm(self.conv(x)))
"""

DATACLASS_CONFIG = """
import dataclasses
import keras
from keras import layers

@dataclasses.dataclass
class NormConfig:
    momentum: float = 0.1
    epsilon: float = 1e-5

def build(config=NormConfig()):
    inputs = keras.Input((64,))
    x = layers.Dense(64, use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=config.momentum, epsilon=config.epsilon)(x)  # expect: BN006 error
    return keras.Model(inputs, x)
"""

UNKNOWN_VALUES = """
import keras
from keras import layers

def build(config, momentum):
    inputs = keras.Input((64,))
    x = layers.BatchNormalization(momentum=momentum)(inputs)
    x = layers.BatchNormalization(momentum=config.bn_momentum)(x)
    x = layers.BatchNormalization(momentum=load_momentum())(x)
    return keras.Model(inputs, x)
"""

NOT_APPLIED_IN_A_GRAPH = """
import keras

class Pyramid(keras.layers.Layer):
    def build(self, shapes):
        self.norms = {}
        for level in shapes:
            self.norms[f"P{level}"] = keras.layers.BatchNormalization(momentum=0.1)  # expect: BN006 error

    def call(self, inputs):
        return {level: self.norms[level](x) for level, x in inputs.items()}
"""

DELIBERATE_ZERO = """
from keras import layers

def test_moving_statistics_are_the_last_batch():
    layer = layers.BatchNormalization(axis=-1, momentum=0.0, epsilon=1e-3)
    layer(inputs, training=True)
"""


@pytest.mark.parametrize("source", [
    HELPER_PARAMETER, SEQUENTIAL_MODULE_CONSTANT, PARTIAL_AND_SPREAD_DICT, SUBCLASSED_ATTRIBUTE_FROM_DEFAULT,
    DATACLASS_CONFIG, UNKNOWN_VALUES, NOT_APPLIED_IN_A_GRAPH, DELIBERATE_ZERO,
], ids=["helper", "sequential-constant", "partial-and-dict", "subclassed", "dataclass", "unknown", "unapplied",
        "zero"])
def test_findings(source):
    assert_findings(source, "BN006")


def test_message_names_the_keras_equivalent_and_where_the_value_came_from():
    [finding] = [d for d in lint(HELPER_PARAMETER, "BN006")]
    assert "momentum=0.01" in finding.message and "`bachnorm_momentum`" in finding.message
    assert "Keras's 0.99" in finding.message


def test_tf1_graph_code_momentum():
    source = """
    import tensorflow as tf

    def network(x, is_training):
        x = tf.compat.v1.layers.conv2d(x, 32, 3, use_bias=False)
        x = tf.compat.v1.layers.batch_normalization(x, momentum=0.1, training=is_training)  # expect: BN006 error
        return tf.nn.relu(x)
    """
    assert_findings(source, "BN006")


def test_fix_rewrites_only_a_literal_in_the_reported_call():
    source = """
    from keras import layers

    def block(x, momentum=0.1):
        x = layers.BatchNormalization(momentum=0.1, epsilon=1e-5)(x)  # the PyTorch values
        return layers.BatchNormalization(momentum=momentum)(x)
    """
    fixed = fixed_text(source, select=["BN006"])
    assert "layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)  # the PyTorch values" in fixed
    assert "def block(x, momentum=0.1):" in fixed  # the parameter default is the author's to change
    assert "layers.BatchNormalization(momentum=momentum)(x)" in fixed


def test_positional_momentum_is_fixed_in_place():
    source = """
    from keras import layers

    def block(x):
        return layers.BatchNormalization(-1, 0.1)(x)
    """
    fixed = fixed_text(source, select=["BN006"])
    assert "layers.BatchNormalization(-1, 0.9)(x)" in fixed


def test_cli_reports_as_error_and_fix_needs_unsafe_fixes(tmp_path):
    model = write(tmp_path / "net.py", """\
        from keras import layers

        def block(x):
            return layers.BatchNormalization(momentum=0.1)(x)
        """)
    run = bnlint("--select", "BN006", model, cwd=tmp_path)
    assert run.returncode == 1
    assert "net.py:4:12: error: BN006" in run.stdout
    bnlint("--select", "BN006", "--fix", model, cwd=tmp_path)
    assert "momentum=0.1" in model.read_text()
    run = bnlint("--select", "BN006", "--fix", "--unsafe-fixes", model, cwd=tmp_path)
    assert "momentum=0.9" in model.read_text() and run.returncode == 0
