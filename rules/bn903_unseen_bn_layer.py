"""BN903 unseen-bn-layer: the built model has a BN layer the static layer graph does not."""
from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.dynamic.rule import DynamicRule
from bnlint.rule import Example


class UnseenBnLayer(DynamicRule):
    code = "BN903"
    name = "unseen-bn-layer"
    summary = "A BatchNormalization of the built model is missing from the static layer graph."
    severity = Severity.INFO
    doc = """
## What it does
Lists the `BatchNormalization` layers a build created at a line of the file (by
the file's own call, or inside a library function it called, such as a
`keras.applications` constructor) where the static layer graph has none, with
the input shape the build gave them. Several layers built at one line (a library
model, a loop) are reported once, with their count.

## Why is this bad?
No static rule checked these layers: this is the static graph's blind spot made
visible (a layer class picked by `getattr`, a factory the frontend cannot
follow, a model built by library code). The build's own checks (BN901) still
cover them.

## Fix safety
No fix.
"""
    bad = Example("""
import keras
from keras import layers

def build_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = getattr(layers, "BatchNormalization")()(x)
    return keras.Model(inputs, x)
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, x)
""", expect=0)
