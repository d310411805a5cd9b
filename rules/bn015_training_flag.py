"""BN015 training-flag: a BN model called in a GradientTape without training=True, or training=True outside training."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph
from bnlint.prefilter import names_bn
from bnlint.rule import Example, Rule

# What bound a name when it is a model whose graph is not named after it.
_GENERIC_MODELS = ("Sequential", "Model", "Functional")


def is_bn_model(graph: LayerGraph, built_by: str) -> bool:
    """True when a name bound by ``built_by`` (a local builder or class, or a Keras model class) holds BN layers.

    A builder of the module is judged by its own trace; ``Sequential(...)`` or ``Model(...)`` by
    the graph at hand, the one the rule is checking.
    """
    if built_by in _GENERIC_MODELS:
        return any(graph.by_op("BatchNormalization"))
    return built_by in graph.facts.training.bn_builders


class TrainingFlag(Rule):
    code = "BN015"
    name = "training-flag"
    summary = "A BN model called in a GradientTape loop without training=True, or with training=True outside one."
    severity = Severity.WARNING
    fix_safety = "unsafe"
    tokens = (b"GradientTape", b"training=True")

    def could_fire(self, data: bytes) -> bool:
        # Both shapes need a BN layer the module builds; one built in a sibling module is
        # found by the prefilter's look at the imports.
        return super().could_fire(data) and names_bn(data)
    doc = """
## What it does
Finds a model with `BatchNormalization` layers called inside a
`with tf.GradientTape()` block without a `training=` argument, and a
`BatchNormalization` layer (or a BN model) called with a literal `training=True`
outside any tape block or `train_step`. An explicit `training=False` inside a tape
is never reported: frozen teachers and target networks are called that way on
purpose. TF1 `batch_normalization` calls are BN014's.

## Why is this bad?
`fit()` sets the training flag for you; a custom loop does not. Called without it,
a Keras model runs in inference mode: its BN layers normalize with their moving
statistics and never update them, so the loop trains a network whose BN layers
stay at their initial statistics. The reverse, `training=True` written into the
model itself, makes BN use batch statistics at inference too: a prediction then
depends on the other samples of its batch, and a single-image prediction is
normalized by itself.

## Fix safety
The fix adds `training=True` to the call inside the tape. It is unsafe: the model
may be called there on purpose in inference mode (a frozen feature extractor whose
author relied on the default), which only the author knows.

## References
- Keras developer guide, "Writing a training loop from scratch": `logits =
  model(x_batch_train, training=True)`.
- Keras API, `BatchNormalization`, "Call arguments: training".
"""
    bad = Example("""
import tensorflow as tf
from tensorflow import keras

def build():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
    return keras.Model(inputs, keras.layers.Dense(10)(x))

model = build()
optimizer = keras.optimizers.Adam()

def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images)
        loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
""", expect=1)
    good = Example("""
import tensorflow as tf
from tensorflow import keras

def build():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
    return keras.Model(inputs, keras.layers.Dense(10)(x))

model = build()
optimizer = keras.optimizers.Adam()

def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        training = graph.facts.training
        for call in training.tape_calls:
            if call.training != "absent" or not is_bn_model(graph, call.built_by):
                continue
            message = (f"`{call.callee}` has BatchNormalization layers and is called in a GradientTape without "
                       "`training=True`: it runs in inference mode, so its BN layers never use batch statistics "
                       "nor update their moving ones")
            fix = Fix("Pass `training=True`", Applicability.UNSAFE,
                      (Edit("set-keyword", call.origin, keyword="training", value="True"),))
            yield Finding(call.origin, message, fix=fix)
        for call in training.literal_training_calls:
            if call.built_by != "BatchNormalization" and not is_bn_model(graph, call.built_by):
                continue
            yield Finding(call.origin, f"`{call.callee}` is called with a literal `training=True` outside a "
                                       "training loop: its BatchNormalization layers use batch statistics at "
                                       "inference too, so a prediction depends on the rest of its batch")
