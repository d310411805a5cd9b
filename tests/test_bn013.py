"""BN013 bn-as-input-standardization: a BN applied to the raw model input."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from lintutil import assert_findings, lint

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(13,))
x = layers.BatchNormalization()(inputs)  # expect: BN013 info @layers.BatchNormalization
x = layers.Dense(32, activation="relu")(x)
model = keras.Model(inputs, layers.Dense(1)(x))
"""

SEQUENTIAL_DECLARED_SHAPE = """
import keras
from keras import layers

model = keras.Sequential([
    layers.BatchNormalization(input_shape=(28, 28, 1)),  # expect: BN013 info @layers.BatchNormalization
    layers.Conv2D(16, 3, activation="relu"),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
"""

SEQUENTIAL_INPUT_ELEMENT = """
from tensorflow import keras

model = keras.Sequential([
    keras.Input(shape=(8,)),
    keras.layers.BatchNormalization(),  # expect: BN013 info @keras.layers.BatchNormalization
    keras.layers.Dense(1),
])
"""

MODEL_ADD = """
from keras.models import Sequential
from keras.layers import BatchNormalization, Dense

model = Sequential()
model.add(BatchNormalization(input_dim=20))  # expect: BN013 info @BatchNormalization
model.add(Dense(64, activation="relu"))
model.add(Dense(1))
"""

BUILDER_FUNCTION = """
import keras
from keras import layers


def build_model(n_features=6):
    features = keras.Input(shape=(n_features,), name="features")
    image = keras.Input(shape=(64, 64, 3), name="image")
    f = layers.BatchNormalization()(features)  # expect: BN013 info @layers.BatchNormalization
    i = layers.Rescaling(1 / 255)(image)
    i = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(i))
    joined = layers.Concatenate()([f, i])
    return keras.Model([features, image], layers.Dense(1)(joined))
"""


# Under a flag the trace cannot decide: the BN standardizes the raw input whenever it is on.
OPTIONAL = """
import keras
from keras import layers


def build(normalize_inputs):
    inputs = keras.Input(shape=(13,))
    x = inputs
    if normalize_inputs:
        x = layers.BatchNormalization()(x)  # expect: BN013 info @layers.BatchNormalization
    return keras.Model(inputs, layers.Dense(1)(x))
"""


@pytest.mark.parametrize("source", [
    pytest.param(OPTIONAL, id="optional"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(SEQUENTIAL_DECLARED_SHAPE, id="sequential-declared-shape"),
    pytest.param(SEQUENTIAL_INPUT_ELEMENT, id="sequential-input-element"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(BUILDER_FUNCTION, id="builder-function"),
])
def test_reported(source):
    assert_findings(source, "BN013")


# A pre-activation block (ResNet v2) begins with BN on whatever tensor its caller passes.
PRE_ACTIVATION_HELPER = """
from keras import layers


def preact_block(x, filters):
    y = layers.BatchNormalization()(x)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    return layers.Add()([x, y])
"""

# A custom layer's ``call`` argument is the previous layer's output, not known to be the data.
SUBCLASSED_LAYER = """
import keras
from keras import layers


class PreActivation(layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.bn = layers.BatchNormalization()
        self.conv = layers.Conv2D(filters, 3, padding="same")

    def call(self, inputs, training=False):
        return self.conv(keras.activations.relu(self.bn(inputs, training=training)))
"""

# A Sequential with no declared input can be a block of a larger model.
UNDECLARED_SEQUENTIAL_BLOCK = """
import keras
from keras import layers


def make_block(filters):
    return keras.Sequential([
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Conv2D(filters, 3, padding="same"),
    ])
"""

AFTER_THE_FIRST_LAYER = """
import keras
from keras import layers

inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(16, 3, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.ReLU()(x))
"""

NORMALIZATION_LAYER = """
import keras
from keras import layers


def build(train_features):
    normalizer = layers.Normalization()
    normalizer.adapt(train_features)
    inputs = keras.Input(shape=(13,))
    x = layers.Dense(32, activation="relu")(normalizer(inputs))
    return keras.Model(inputs, layers.Dense(1)(x))
"""

# A Sequential applied inside a functional model: its first BN sees the conv's output.
SEQUENTIAL_APPLIED_TO_FEATURES = """
import keras
from keras import layers

head = keras.Sequential([layers.BatchNormalization(), layers.Dense(10)])
inputs = keras.Input(shape=(32, 32, 3))
x = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(inputs))
model = keras.Model(inputs, head(x))
"""


# Under a flag the trace cannot decide, the BN sees either the input or a stem's output.
INPUT_OR_STEM = """
import keras
from keras import layers


def build(stem):
    inputs = keras.Input(shape=(32, 32, 3))
    x = inputs
    if stem:
        x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Conv2D(8, 3)(x))
"""


# The BN's input is the parameter of a function that builds a model: the graph holds it as a placeholder,
# as it holds any tensor it could not trace, and cannot tell that it is the data.
BUILDER_WITH_AN_INPUT_PARAMETER = """
import keras
from keras import layers


def build_model(features):
    x = layers.BatchNormalization()(features)
    return keras.Model(features, layers.Dense(1)(x))
"""

# A keras.Model subclass whose constructor builds a graph over a dict of backbone features it
# cannot trace, then normalizes each item: features, not data.
MODEL_OVER_UNTRACED_FEATURES = """
import keras
from keras import layers
from backbones import feature_pyramid


class Decoder(keras.Model):
    def __init__(self, levels=(3, 4, 5)):
        features = feature_pyramid()
        outputs = {}
        for level in levels:
            outputs[level] = layers.BatchNormalization(name=f"norm_{level}")(features[str(level)])
        super().__init__(inputs=features, outputs=outputs)
"""

MODEL_SUBCLASS_CALL = """
import keras
from keras import layers


class TabularNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.norm = layers.BatchNormalization()
        self.out = layers.Dense(1)

    def call(self, inputs, training=False):
        return self.out(self.norm(inputs, training=training))
"""


@pytest.mark.parametrize("source", [
    pytest.param(BUILDER_WITH_AN_INPUT_PARAMETER, id="builder-with-an-input-parameter"),
    pytest.param(MODEL_OVER_UNTRACED_FEATURES, id="model-over-untraced-features"),
    pytest.param(MODEL_SUBCLASS_CALL, id="model-subclass-call"),
    pytest.param(INPUT_OR_STEM, id="input-or-stem"),
    pytest.param(PRE_ACTIVATION_HELPER, id="pre-activation-helper"),
    pytest.param(SUBCLASSED_LAYER, id="subclassed-layer"),
    pytest.param(UNDECLARED_SEQUENTIAL_BLOCK, id="undeclared-sequential-block"),
    pytest.param(AFTER_THE_FIRST_LAYER, id="after-the-first-layer"),
    pytest.param(NORMALIZATION_LAYER, id="normalization-layer"),
    pytest.param(SEQUENTIAL_APPLIED_TO_FEATURES, id="sequential-applied-to-features"),
])
def test_not_reported(source):
    assert_findings(source, "BN013")


def test_message_advises_normalization_and_offers_no_fix():
    [diagnostic] = lint(FUNCTIONAL, "BN013")
    assert diagnostic.name == "bn-as-input-standardization" and diagnostic.severity.label == "info"
    assert "`keras.layers.Normalization`" in diagnostic.message and "`adapt()`" in diagnostic.message
    assert diagnostic.fix is None  # adapt() needs the training data, which only the author has


def test_off_by_default_and_on_when_selected(tmp_path):
    write(tmp_path / "model.py", FUNCTIONAL)
    assert "BN013" not in bnlint("--isolated", "model.py", cwd=tmp_path).stdout
    run = bnlint("--isolated", "--select", "BN013", "--fail-on", "info", "model.py", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.startswith("model.py:6:5: info: BN013 BatchNormalization standardizes the raw model input")
    assert "fixable" not in run.stdout
