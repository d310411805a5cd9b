"""BN007 frozen-base-training: a frozen pretrained base called without training=False."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph
from bnlint.rule import Example, Rule


class FrozenBaseTraining(Rule):
    code = "BN007"
    name = "frozen-base-training"
    summary = "A frozen pretrained base model is called without training=False, so its BN layers train when unfrozen."
    severity = Severity.WARNING
    fix_safety = "safe"
    tokens = (b"applications", b"load_model")

    def could_fire(self, data: bytes) -> bool:
        # Every shape of the rule starts from a ``trainable`` assignment on a pretrained base.
        return b"trainable" in data and super().could_fire(data)
    doc = """
## What it does
Finds a pretrained base model (a `keras.applications` model with trained weights —
its default `weights="imagenet"` counts — or one from `load_model`) that is frozen
with `base.trainable = False` and then called on a tensor without `training=False`.
Also, at the `trainable = True` assignment: a loop that unfreezes every layer of
such a base without keeping its `BatchNormalization` layers frozen, and a base
unfrozen after the last `compile()` of its function (a suggestion: the change takes
effect only at the next `compile()`). A base built with `input_tensor=` and never
called gets no call finding.

## Why is this bad?
While the base is frozen, its BN layers run in inference mode whatever the call
says. The transfer-learning recipe then unfreezes the base to fine-tune it; from
that moment a base called without `training=False` runs its BN layers in training
mode, on the small fine-tuning batches of a new dataset: the moving statistics
learned on ImageNet are overwritten within a few steps and the accuracy reached
with the frozen base is lost. The Keras transfer-learning guide passes
`training=False` for exactly this reason.

## Fix safety
The fix adds `training=False` to the call of the base. It is safe: it is what the
frozen base does already, and it keeps the BN layers in inference mode once the
base is unfrozen, as the guide intends.

## References
- Keras developer guide, "Transfer learning & fine-tuning": "we make sure that the
  base_model is running in inference mode here, by passing `training=False`".
"""
    bad = Example("""
import keras

base = keras.applications.ResNet50(weights="imagenet", include_top=False)
base.trainable = False
inputs = keras.Input(shape=(224, 224, 3))
x = base(inputs)
outputs = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
""", expect=1)
    good = Example("""
import keras

base = keras.applications.ResNet50(weights="imagenet", include_top=False)
base.trainable = False
inputs = keras.Input(shape=(224, 224, 3))
x = base(inputs, training=False)
outputs = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for base in graph.facts.training.bases:
            if base.frozen is not None:
                for call in base.calls:
                    if call.training not in ("absent", "true"):
                        continue
                    spelled = "with `training=True`" if call.training == "true" else "without `training=False`"
                    message = (f"the frozen pretrained base `{base.name}` ({base.constructor}) is called "
                               f"{spelled}: once it is unfrozen for fine-tuning, its BatchNormalization layers "
                               "switch to batch statistics and lose the pretrained ones")
                    fix = None
                    if call.training == "absent":
                        fix = Fix("Pass `training=False`", Applicability.SAFE,
                                  (Edit("set-keyword", call.origin, keyword="training", value="False"),))
                    yield Finding(call.origin, message, fix=fix)
            if base.unfreeze_all is not None:
                yield Finding(base.unfreeze_all, f"this loop unfreezes every layer of the pretrained base "
                                                 f"`{base.name}`, BatchNormalization included: keep those frozen "
                                                 "(`if not isinstance(layer, BatchNormalization)`)")
            if base.unfrozen_after_compile is not None:
                yield Finding(base.unfrozen_after_compile, f"`{base.name}.trainable` changes after the last "
                                                           "`compile()`: it takes effect only when the model is "
                                                           "compiled again")
