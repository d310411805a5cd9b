"""BN901 built-axis-mismatch: the built model shows a BN normalizing another axis than the channel axis."""
from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.dynamic.rule import DynamicRule
from bnlint.rule import Example


class BuiltAxisMismatch(DynamicRule):
    code = "BN901"
    name = "built-axis-mismatch"
    summary = "The built model's BatchNormalization normalizes an axis that is not its input's channel axis."
    severity = Severity.ERROR
    doc = """
## What it does
Builds the model and reads the real input shape of every `BatchNormalization`:
when the normalized axis is not the channel axis of the built tensor (given the
data format of the nearest upstream layer that has one, or the global image data
format), and static analysis could not tell (its BN001 did not report this layer),
it reports the axis, its size, and the channel axis with its size. Where BN001 did
report the layer, the build confirms or refutes that finding instead.

## Why is this bad?
As for BN001: BN keeps one gamma/beta pair and one pair of moving statistics per
entry of the normalized axis. Normalizing the width axis of a channels_first
tensor learns one scale per image column and mixes every channel in each
statistic. Static analysis loses the layout behind a custom layer, an opaque
helper or a shape it cannot compute; the build does not.

## Fix safety
No fix: the layer's source may not say where the layout came from. Set `axis=`
to the channel axis the message names.
"""
    bad = Example("""
import keras
from keras import layers


class Jitter(layers.Layer):
    def call(self, inputs):
        return inputs + keras.random.normal(keras.ops.shape(inputs), stddev=0.01)


def build_model():
    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.Conv2D(16, 3, data_format="channels_first")(inputs)
    x = Jitter()(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, x)
""", expect=1)
    good = Example("""
import keras
from keras import layers


class Jitter(layers.Layer):
    def call(self, inputs):
        return inputs + keras.random.normal(keras.ops.shape(inputs), stddev=0.01)


def build_model():
    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.Conv2D(16, 3, data_format="channels_first")(inputs)
    x = Jitter()(x)
    x = layers.BatchNormalization(axis=1)(x)
    return keras.Model(inputs, x)
""", expect=0)
