"""BN013 bn-as-input-standardization: a BatchNormalization as the first layer, standardizing raw inputs."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule

# The arguments by which a Sequential's first layer declares the model's input.
_INPUT_DECLARATIONS = ("input_shape", "input_dim", "batch_input_shape", "batch_shape")


class BnAsInputStandardization(Rule):
    code = "BN013"
    name = "bn-as-input-standardization"
    summary = "A BatchNormalization applied to the raw model input, to standardize the data."
    severity = Severity.INFO
    enabled_by_default = False
    doc = """
## What it does
Finds a `BatchNormalization` applied directly to a model's raw input: right
after a `keras.Input`, or as the first layer of a `Sequential` that declares the
input (`BatchNormalization(input_shape=...)`, or after a `keras.Input` element).
Off by default: it is advice about preprocessing, not a defect.

Not reported: a BN on a function's parameter or on a `call` argument, even of a
function or a `keras.Model` subclass that builds a model. The graph holds such a
tensor as a placeholder, as it holds any tensor it could not trace (an item of a
dict of backbone features), and cannot tell which of them is the data: a block
that begins with BN is the pre-activation residual design (He et al., ResNet v2:
BN → ReLU → conv), not input standardization. A Sequential with no declared input
can be such a block too, and is not reported either.

## Why is this bad?
A BN on the input standardizes the data with the mean and variance of each
training batch, so a sample's features depend on the other samples in its batch,
and at inference they are standardized with moving averages instead. Its gamma
and beta are parameters that a fixed standardization does not need. What the
model needs is the dataset's mean and variance, computed once: Keras's
`Normalization` preprocessing layer does this; `adapt()` computes them from the
training data and stores them as the layer's weights, and the layer then applies
`(input - mean) / sqrt(var)` at training and inference alike (Keras
`Normalization` docs; the "Working with preprocessing layers" guide). For images
in [0, 255], `Rescaling(1 / 255)` is the usual input step.

## Fix safety
No fix. Replacing the BN with `Normalization()` is not enough: the layer must be
adapted to the training data, which only the author has, before `fit()`. A
`Normalization` that is never adapted starts with mean 0 and variance 1 (Keras's
`adapt_mean`/`adapt_variance` initializers) and silently passes the input
through unchanged, so such a fix would remove the input standardization while
looking like it kept it. The message says what to write instead.

## References
- Keras API, `Normalization`: "The mean and variance values for the layer must be
  either supplied on construction or learned via `adapt()`. `adapt()` will compute
  the mean and variance of the data and store them as the layer's weights.
  `adapt()` should be called before `fit()`, `evaluate()`, or `predict()`."
- Keras guide, "Working with preprocessing layers".
- S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training
  by Reducing Internal Covariate Shift", ICML 2015, section 3: BN normalizes with
  mini-batch statistics in training and population statistics at inference.
"""
    bad = Example("""
import keras
from keras import layers

def build_regressor(num_features=13):
    inputs = keras.Input(shape=(num_features,))
    x = layers.BatchNormalization()(inputs)
    x = layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(1)(x))
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_regressor(train_features, num_features=13):
    normalizer = layers.Normalization()
    normalizer.adapt(train_features)
    inputs = keras.Input(shape=(num_features,))
    x = normalizer(inputs)
    x = layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(1)(x))
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):  # one under a flag standardizes the input when it is on
            producers = graph.predecessors(bn)
            if len(producers) != 1 or producers[0].family is not Family.INPUT:
                continue
            if not _raw_input(producers[0], bn):
                continue
            message = ("BatchNormalization standardizes the raw model input with the statistics of each "
                       "training batch (moving averages at inference) and learns a gamma and beta it does not "
                       "need; use `keras.layers.Normalization` and `adapt()` it to the training data, which "
                       "fixes the dataset's mean and variance once")
            yield Finding(bn.origin, message)


def _raw_input(source: LayerNode, bn: LayerNode) -> bool:
    """The model's own input: a ``keras.Input``, or what a Sequential's first layer declares.

    Any other input node is a placeholder for a tensor the trace does not know: a function's
    parameter, a ``call`` argument, an item of a dict built elsewhere. It may be any layer's
    output (a block that begins with BN), and so is the input of a Sequential that declares none.
    """
    if source.origin is not None:
        return True
    return bn.style in ("sequential-list", "model-add") and any(name in bn.args for name in _INPUT_DECLARATIONS)
