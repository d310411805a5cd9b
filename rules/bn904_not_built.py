"""BN904 not-built: dynamic mode could not import a file or build one of its models, and says why."""
from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.dynamic.rule import DynamicRule
from bnlint.rule import Example


class NotBuilt(DynamicRule):
    code = "BN904"
    name = "not-built"
    summary = "Dynamic mode could not import this file or build a model in it; the message says why."
    severity = Severity.WARNING
    doc = """
## What it does
Reports, once per file, why dynamic mode could not import it (an import error,
an exception, a crash, a time-out, a memory blow-up, a weights download it
refused), as a warning at the top of the file; and, as info at its definition,
a builder holding BatchNormalization layers that no build reached, with the
reason (it needs arguments, it raised, it returned no model, the model has no
input shape). The static findings in what was not built say `not built` too.

## Why is this bad?
It is not a BN problem: it says where the build could not confirm or refute the
static findings. Name a builder that needs arguments in the `dynamic-entry`
config key with literal arguments, give models without an input shape
`dynamic-input-shape`, or raise `dynamic-timeout`.

## Fix safety
No fix.
"""
    bad = Example("""
import keras
from keras import layers

def build_model(num_classes):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_model(num_classes=10):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))
""", expect=0)
