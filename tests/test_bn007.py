"""BN007 frozen-base-training: frozen pretrained bases and how they are called, unfrozen and recompiled."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from fixutil import fixed_text
from lintutil import assert_findings

FUNCTIONAL = """
import keras

base = keras.applications.ResNet50(weights="imagenet", include_top=False)
base.trainable = False
inputs = keras.Input(shape=(224, 224, 3))
x = base(inputs)  # expect: BN007 warning
y = base(inputs, training=False)
z = base(inputs, training=True)  # expect: BN007 warning
outputs = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
"""

DEFAULT_WEIGHTS_IN_A_FUNCTION = """
from tensorflow.keras.applications import MobileNetV2
from tensorflow import keras

def build(num_classes):
    base = MobileNetV2(input_shape=(160, 160, 3), include_top=False)
    base.trainable = False
    inputs = keras.Input(shape=(160, 160, 3))
    features = base(inputs)  # expect: BN007 warning
    return keras.Model(inputs, keras.layers.Dense(num_classes)(features))
"""

NOT_FROZEN_OR_NOT_PRETRAINED = """
import keras

scratch = keras.applications.ResNet50(weights=None, include_top=False)
scratch.trainable = False
trained = keras.applications.ResNet50(include_top=False)
inputs = keras.Input(shape=(224, 224, 3))
a = scratch(inputs)
b = trained(inputs)
"""

INPUT_TENSOR_NEVER_CALLED = """
import keras

inputs = keras.Input(shape=(224, 224, 3))
base = keras.applications.VGG16(weights="imagenet", include_top=False, input_tensor=inputs)
base.trainable = False
x = keras.layers.Flatten()(base.output)
model = keras.Model(inputs, keras.layers.Dense(2)(x))
"""

SUBCLASSED_LOAD_MODEL = """
import tensorflow as tf

class Classifier(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.backbone = tf.keras.models.load_model("backbone.keras")
        self.backbone.trainable = False
        self.head = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.head(self.backbone(x))  # expect: BN007 warning @self.backbone
"""

UNFREEZE_LOOP_AND_LATE_TRAINABLE = """
import keras

def fine_tune(train):
    base = keras.applications.EfficientNetB0(weights="imagenet", include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(base(inputs, training=False)))
    model.compile("adam", "categorical_crossentropy")
    model.fit(train, epochs=5)
    for layer in base.layers:
        layer.trainable = True  # expect: BN007 warning
    base.trainable = True  # expect: BN007 warning
    model.fit(train, epochs=5)

def fine_tune_right(train):
    base = keras.applications.EfficientNetB0(weights="imagenet", include_top=False)
    base.trainable = False
    inputs = keras.Input((224, 224, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(base(inputs, training=False)))
    model.compile("adam", "categorical_crossentropy")
    for layer in base.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True
    base.trainable = True
    model.compile(keras.optimizers.Adam(1e-5), "categorical_crossentropy")
    model.fit(train, epochs=5)
"""


@pytest.mark.parametrize("source", [FUNCTIONAL, DEFAULT_WEIGHTS_IN_A_FUNCTION, NOT_FROZEN_OR_NOT_PRETRAINED,
                                    INPUT_TENSOR_NEVER_CALLED, SUBCLASSED_LOAD_MODEL,
                                    UNFREEZE_LOOP_AND_LATE_TRAINABLE],
                         ids=["functional", "default-weights", "not-frozen", "input-tensor", "subclassed",
                              "unfreeze"])
def test_findings(source):
    assert_findings(source, "BN007")


def test_fix_passes_training_false_to_the_call_only():
    fixed = fixed_text(FUNCTIONAL, unsafe=False, select=["BN007"])
    assert "x = base(inputs, training=False)  # expect" in fixed
    assert "z = base(inputs, training=True)" in fixed  # an explicit choice is the author's


def test_cli_safe_fix(tmp_path):
    model = write(tmp_path / "transfer.py", DEFAULT_WEIGHTS_IN_A_FUNCTION)
    run = bnlint(model, cwd=tmp_path)
    assert run.returncode == 1 and "BN007" in run.stdout
    bnlint("--fix", model, cwd=tmp_path)
    assert "features = base(inputs, training=False)" in model.read_text()
    assert "BN007" not in bnlint(model, cwd=tmp_path).stdout
