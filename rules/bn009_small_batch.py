"""BN009 small-batch: a BN model trained with a literal batch size below 9."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph
from bnlint.rule import Example, Rule

_SMALLEST_GOOD_BATCH = 9


class SmallBatch(Rule):
    code = "BN009"
    name = "small-batch"
    summary = "A model with BatchNormalization is trained with a batch size below 9."
    severity = Severity.WARNING
    fix_safety = "none"
    tokens = (b"BatchNorm", b"batch_norm")
    doc = """
## What it does
Finds a literal batch size below 9 that reaches training in a module that builds a
model with `BatchNormalization`: `model.fit(..., batch_size=2)`, or a dataset
batched with `.batch(2)` (or a data generator built with `batch_size=2`) that is
passed to `fit()`. A batch size bound once to a name (`BATCH_SIZE = 2`) counts as
literal. Batch 1 is an error, 2 to 8 a warning. Evaluation and prediction batches
are not reported.

## Why is this bad?
BN normalizes with the mean and variance of the current batch. With two samples
those estimates are so noisy that training suffers and the moving averages used at
inference do not match what the model trained on: Wu & He measured 10.6% higher
error for BN than for Group Normalization at batch 2 on ImageNet. With one sample
per batch and no spatial extent the variance is zero; with spatial extent BN
becomes instance normalization during training but not at inference.

## Fix safety
No automatic fix: the cure changes the model. Use `GroupNormalization` (Wu & He,
2018; `GroupNormalization(groups=-1)` is instance normalization, the pix2pix
choice for batch 1), a larger batch, or freeze the BN layers
(`trainable=False`) when fine-tuning a pretrained model.

## References
- Wu & He, "Group Normalization", ECCV 2018 (figure 1: error against batch size).
- Keras API, `GroupNormalization`.
"""
    bad = Example("""
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(256, 256, 3)),
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(1, 1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(images, masks, batch_size=2, epochs=50)
""", expect=1)
    good = Example("""
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(256, 256, 3)),
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.GroupNormalization(groups=16),
    layers.ReLU(),
    layers.Conv2D(1, 1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(images, masks, batch_size=2, epochs=50)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        if not any(graph.by_op("BatchNormalization")):
            return  # only a model with BN suffers from the batch size
        for batch in graph.facts.training.batches:
            if batch.size >= _SMALLEST_GOOD_BATCH or batch.size < 1:
                continue
            if batch.entry != graph.entry and batch.built_by and batch.built_by not in graph.facts.training.bn_builders:
                continue  # it trains another model of the module, one that holds no BN
            if batch.size == 1:
                message = (f"{batch.spelling} trains a BatchNormalization model one sample at a time: batch "
                           "statistics of one sample are degenerate (even where deliberate, as in pix2pix, "
                           "`GroupNormalization(groups=-1)` is the instance normalization meant)")
                yield Finding(batch.origin, message, severity=Severity.ERROR)
            else:
                message = (f"{batch.spelling} gives BatchNormalization {batch.size} samples per batch: its "
                           "statistics are too noisy to train on or to average for inference; "
                           "GroupNormalization does not depend on the batch")
                yield Finding(batch.origin, message)
