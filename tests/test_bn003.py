"""BN003 dropout-variance-shift: heavy dropout upstream of a BN."""
from __future__ import annotations

import pytest

from lintutil import assert_findings, findings, lint

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.BatchNormalization(),
    layers.Dropout(0.3),  # expect: BN003 warning @layers.Dropout
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.BatchNormalization(),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
"""

MODEL_ADD = """
from tensorflow import keras

model = keras.models.Sequential()
model.add(keras.layers.Dense(512, activation="relu", input_shape=(784,)))
model.add(keras.layers.Dropout(0.5))  # expect: BN003 warning @keras.layers.Dropout
model.add(keras.layers.BatchNormalization())
model.add(keras.layers.Dense(10, activation="softmax"))
"""

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.SpatialDropout2D(0.25)(x)  # expect: BN003 warning @layers.SpatialDropout2D
x = layers.MaxPooling2D()(x)
x = layers.ZeroPadding2D()(x)
x = layers.Conv2D(64, 3)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.4)(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
"""

NESTED_CALLS = """
import keras
from keras import layers

inputs = keras.Input(shape=(100,))
x = layers.BatchNormalization()(layers.Dense(64)(layers.Dropout(0.2)(inputs)))  # expect: BN003 warning @layers.Dropout
x = layers.BatchNormalization()(layers.Dense(64)(layers.Dropout(0.1)(x)))
model = keras.Model(inputs, layers.Dense(1)(x))
"""

HELPER_FUNCTION = """
import keras
from keras import layers


def dense_block(x, units, drop):
    x = layers.Dropout(drop)(x)  # expect: BN003 warning @layers.Dropout
    x = layers.Dense(units)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build():
    inputs = keras.Input(shape=(64,))
    x = dense_block(inputs, 128, 0.1)
    x = dense_block(x, 128, 0.5)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

HELPER_FUNCTION_LOW_RATES = """
import keras
from keras import layers


def dense_block(x, units, drop=0.1):
    x = layers.Dropout(rate=drop)(x)
    x = layers.Dense(units)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build():
    inputs = keras.Input(shape=(64,))
    x = dense_block(inputs, 128)
    x = dense_block(x, 128, drop=0.15)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

FOR_LOOP = """
import keras
from keras import layers

inputs = keras.Input(shape=(32, 32, 3))
x = inputs
for filters in [32, 64, 128]:
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.3)(x)  # expect: BN003 warning @layers.Dropout
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10)(x))
"""

SUBCLASS_MODEL = """
import keras
from keras import layers


class MLP(keras.Model):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1 = layers.Dense(hidden)
        self.drop1 = layers.Dropout(0.5)  # expect: BN003 warning @layers.Dropout
        self.fc2 = layers.Dense(hidden)
        self.bn2 = layers.BatchNormalization()
        self.drop2 = layers.Dropout(0.5)
        self.out = layers.Dense(1)

    def call(self, x, training=False):
        x = keras.activations.relu(self.fc1(x))
        x = self.drop1(x, training=training)
        x = self.bn2(self.fc2(x), training=training)
        x = self.drop2(keras.activations.relu(x), training=training)
        return self.out(x)
"""

SUBCLASS_LAYER = """
import keras
from keras import layers


class Block(layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.drop = layers.GaussianDropout(0.3)  # expect: BN003 warning @layers.GaussianDropout
        self.conv = layers.Conv1D(filters, 5, padding="same")
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return self.bn(self.conv(self.drop(x, training=training)), training=training)
"""


@pytest.mark.parametrize("source", [
    pytest.param(SEQUENTIAL_LIST, id="sequential-list"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(NESTED_CALLS, id="nested-calls"),
    pytest.param(HELPER_FUNCTION, id="helper-function"),
    pytest.param(HELPER_FUNCTION_LOW_RATES, id="helper-function-low-rates"),
    pytest.param(FOR_LOOP, id="for-loop"),
    pytest.param(SUBCLASS_MODEL, id="subclass-model"),
    pytest.param(SUBCLASS_LAYER, id="subclass-layer"),
])
def test_styles(source):
    assert_findings(source, "BN003")


def test_strongest_case_message_and_fix():
    [diagnostic] = lint(MODEL_ADD, "BN003")
    assert diagnostic.name == "dropout-variance-shift"
    assert diagnostic.message.startswith("Dropout(rate=0.5) feeds BatchNormalization (line 7) directly")
    assert "strongest case" in diagnostic.message
    assert diagnostic.fix is not None
    assert diagnostic.fix.applicability.value == "unsafe"
    assert diagnostic.fix.edits[0].kind == "move-layer-after"


def test_message_lists_layers_in_between():
    [diagnostic] = lint(FUNCTIONAL, "BN003")
    assert "SpatialDropout2D(rate=0.25)" in diagnostic.message
    assert "through MaxPooling2D, ZeroPadding2D, Conv2D" in diagnostic.message
    assert "strongest" not in diagnostic.message


@pytest.mark.parametrize(("dropout", "reported"), [
    ("layers.Dropout(0.5)", True),
    ("layers.Dropout(rate=0.5)", True),
    ("layers.Dropout(0.2)", True),
    ("layers.Dropout(0.19)", False),
    ("layers.Dropout(0)", False),
    ("layers.SpatialDropout1D(0.3)", True),
    ("layers.SpatialDropout2D(rate=0.3)", True),
    ("layers.SpatialDropout3D(0.3)", True),
    ("layers.GaussianDropout(0.3)", True),
    ("layers.AlphaDropout(0.3)", True),
    ("layers.AlphaDropout(0.05)", False),
    ("layers.Dropout(RATE)", True),
    ("layers.Dropout(rate)", False),
    ("layers.Dropout(get_rate())", False),
    ("layers.Dropout(config['dropout'])", False),
    ("layers.Dropout(**dropout_kwargs)", False),
])
def test_rates(dropout, reported):
    source = f"""
    from keras import layers
    from hparams import get_rate, config

    RATE = 0.4

    def block(x, rate, **dropout_kwargs):
        x = {dropout}(x)
        x = layers.Conv2D(16, 3)(x)
        return layers.BatchNormalization()(x)
    """
    assert findings(source, "BN003") == ([("BN003", 8, 9, "warning")] if reported else [])


def test_threshold_setting():
    source = """
    from keras import layers

    def block(x):
        x = layers.Dropout(0.1)(x)
        return layers.BatchNormalization()(x)
    """
    assert findings(source, "BN003") == []
    assert findings(source, "BN003", dropout_threshold=0.1) == [("BN003", 5, 9, "warning")]
    assert "below 0.1" in lint(source, "BN003", dropout_threshold=0.1)[0].message


def test_dropout_after_the_last_bn_is_the_recommended_place():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(224, 224, 3))
    x = layers.Conv2D(64, 3, strides=2)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1000, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    """
    assert findings(source, "BN003") == []


@pytest.mark.parametrize("norm", ["LayerNormalization()", "GroupNormalization(groups=8)"])
def test_other_normalization_ends_the_search(norm):
    source = f"""
    from keras import layers

    def block(x):
        x = layers.Dropout(0.5)(x)
        x = layers.{norm}(x)
        x = layers.Conv2D(8, 3)(x)
        return layers.BatchNormalization()(x)
    """
    assert findings(source, "BN003") == []


def test_only_the_nearest_bn_matters_and_one_finding_per_dropout():
    source = """
    from keras import layers

    def block(x):
        x = layers.Dropout(0.3)(x)  # expect: BN003 warning @layers.Dropout
        a = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        b = layers.BatchNormalization()(layers.Conv2D(8, 5)(x))
        return layers.concatenate([a, b])
    """
    assert_findings(source, "BN003")


def test_dropout_through_a_merge_reaches_bn():
    source = """
    from keras import layers

    def block(x, y):
        x = layers.Dropout(0.3)(x)  # expect: BN003 warning @layers.Dropout
        merged = layers.add([x, y])
        return layers.BatchNormalization()(merged)
    """
    assert_findings(source, "BN003")


def test_tf1_dropout_function_is_not_a_layer_call():
    source = """
    import tensorflow as tf

    def head(x):
        x = tf.nn.dropout(x, rate=0.5)
        return tf.keras.layers.BatchNormalization()(x)
    """
    assert findings(source, "BN003") == []


def test_fix_only_for_simple_chains():
    branching = """
    from keras import layers

    def block(x):
        x = layers.Dropout(0.3)(x)
        skip = x
        x = layers.Conv2D(8, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.add([x, skip])
    """
    [diagnostic] = lint(branching, "BN003")
    assert diagnostic.fix is None
