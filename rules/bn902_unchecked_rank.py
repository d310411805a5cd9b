"""BN902 unchecked-rank: a BN whose input rank static analysis could not infer, checked by the build."""
from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.dynamic.rule import DynamicRule
from bnlint.rule import Example


class UncheckedRank(DynamicRule):
    code = "BN902"
    name = "unchecked-rank"
    summary = "Static analysis could not infer the rank of this BatchNormalization's input; the build shows it."
    severity = Severity.INFO
    doc = """
## What it does
Reports a `BatchNormalization` whose input rank the static layer graph does not
know (an input shape computed at run time, a tensor from an opaque helper), with
what the build shows: the input shape, its data format, and whether the
normalized axis is the channel axis. When it is not, BN901 reports the layer
instead, as an error.

## Why is this bad?
It is not wrong in itself: it marks the layers that static rules (BN001 above
all) could not check, so that a static-only run's silence about them is not
read as a clean bill.

## Fix safety
No fix. Writing the input shape as a literal lets the static pass check the layer.
"""
    bad = Example("""
import keras
from keras import layers

SHAPE = tuple(int(size) for size in "32,32,3".split(","))

def build_model():
    inputs = keras.Input(shape=SHAPE)
    x = layers.BatchNormalization()(inputs)
    return keras.Model(inputs, x)
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.BatchNormalization()(inputs)
    return keras.Model(inputs, x)
""", expect=0)
