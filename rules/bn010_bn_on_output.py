"""BN010 bn-on-output: a BatchNormalization on a model's logits or regression output."""
from __future__ import annotations

import re
from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# What a model's output layer applies to its logits; a probability ends a model wherever it is written.
_OUTPUT_ACTIVATIONS = frozenset({"softmax", "log_softmax", "sigmoid", "tanh"})
_PROBABILITIES = frozenset({"softmax", "log_softmax"})
# Ops that hand logits on as logits: pooling class maps, flattening a segmentation head to pixels x classes.
_KEEPS_LOGITS = {Family.RESHAPE, Family.GLOBAL_POOL}
# Words that name a layer's width as the number of predicted values.
_PREDICTION_WORDS = frozenset({"class", "classes", "label", "labels", "target", "targets"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+")


class BnOnOutput(Rule):
    code = "BN010"
    name = "bn-on-output"
    summary = "A BatchNormalization normalizes a model's output: its logits, or its regression values."
    severity = Severity.INFO
    fix_safety = "unsafe"
    doc = """
## What it does
Finds a `BatchNormalization` between a model's last `Dense` or convolution and
its output: `Dense(num_classes) → BN → softmax`, `Dense(1) → BN` as a regression
output, a generator's last `Conv2DTranspose → BN → tanh`. The BN is the output,
or only an output activation (softmax, sigmoid, tanh), a `Reshape`/`Flatten`, a
global pooling or a dropout follows it to the output. A BN under a flag
(`if normalize_logits:`) is reported too: it is on the output whenever it is
there.

A model's output is that of a model the code builds (`keras.Model(inputs,
outputs)`, a `Sequential`, the `call` of a `keras.Model` subclass), or the end of
a graph traced from its own `keras.Input`. What a helper function or a
`keras.layers.Layer` subclass returns is a block's output that a caller may feed
on: it is judged only when it is a probability (softmax), which nothing but a
loss follows.

Not reported: BN on the features *before* the last `Dense` (keras-io's
EfficientNet head, `GlobalAveragePooling2D → BN → Dropout → Dense`); a backbone
that returns `BN → ReLU` features; a BN at the output of an embedding or
projection head of unknown width (SimCLR's and SimSiam's projectors end in a BN
on purpose): there the output is a logit or a regression value only when an
output activation follows, or when the last layer's width is 1 or is named for
the classes (`num_classes`, `n_labels`).

## Why is this bad?
During training BN normalizes each value with the mean and variance of the
current batch (Ioffe & Szegedy 2015, section 3), so a sample's prediction
depends on the other samples in its batch, and at inference it is computed with
moving averages instead. On a hidden layer the following layers absorb that
noise; on the output it is the prediction itself, and the loss is computed on
batch-standardized logits. In training, every batch's predictions have mean
beta and standard deviation |gamma|, whatever the batch holds: a regression
output cannot follow a batch whose targets are all large or all small. Radford et al.
(DCGAN, 2016) found that BN on the generator's output layer made samples
oscillate and training unstable, and leave it out; the Keras applications
(ResNet, EfficientNet, MobileNet) end in a plain `Dense` classifier.

## Fix safety
The fix removes the BN layer, so the last `Dense`/conv feeds the output
activation directly, and drops a `use_bias=False` from that layer: the BN's beta
stood in for its bias. It is unsafe: it changes the model and its weights
(checkpoints that hold the BN's gamma, beta and moving statistics no longer
load). It is offered only where the BN is applied in one place, in a simple
chain the fixer can rewire; a BN in a helper traced several times is removed
only when every use is on an output.

## References
- S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training
  by Reducing Internal Covariate Shift", ICML 2015, section 3.
- A. Radford, L. Metz, S. Chintala, "Unsupervised Representation Learning with
  Deep Convolutional Generative Adversarial Networks", ICLR 2016, section 3.
- keras-io, "Image classification via fine-tuning with EfficientNet": the head
  `GlobalAveragePooling2D → BatchNormalization → Dropout → Dense`.
"""
    bad = Example("""
import keras
from keras import layers

def build_classifier(num_classes=10):
    inputs = keras.Input(shape=(64,))
    x = layers.Dense(128, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dense(num_classes)(x)
    x = layers.BatchNormalization()(x)
    outputs = layers.Activation("softmax")(x)
    return keras.Model(inputs, outputs)
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_classifier(num_classes=10):
    inputs = keras.Input(shape=(64,))
    x = layers.Dense(128, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dense(num_classes)(x)
    outputs = layers.Activation("softmax")(x)
    return keras.Model(inputs, outputs)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        # A BN under an undecided flag is on the output whenever it is there. Its trace under
        # ``if __name__ == "__main__": build()`` is such a copy, and must report too, or the fix
        # would be refused as right in only some of the layer's uses.
        for bn in graph.by_op("BatchNormalization"):
            found = _head(graph, bn)
            after = _to_output(graph, bn)
            if found is None or after is None:
                continue
            head, before = found
            activations = [a for a in map(_activation_of, before + after) if a in _OUTPUT_ACTIVATIONS]
            is_prediction = bool(activations) or _predicts(head)
            is_model_output = bool(set(activations) & _PROBABILITIES) or _ends_a_model(graph, bn)
            if not (is_prediction and is_model_output):
                continue
            where = "".join(f" after its {a}" for a in map(_activation_of, before) if a in _OUTPUT_ACTIVATIONS) + \
                "".join(f" before its {a}" for a in map(_activation_of, after) if a in _OUTPUT_ACTIVATIONS)
            message = (f"BatchNormalization normalizes the model's output from {{0}}{where}: in training "
                       f"each prediction then depends on the rest of its batch, at inference on moving "
                       f"averages; remove it, or normalize the features before the last layer instead")
            fix, note = shape_changing_fix(_removal(bn, head), graph.facts)
            yield Finding(bn.origin, message + note, fix=fix, related=((head.origin, head.label or head.op),))


def _removal(bn: LayerNode, head: LayerNode) -> Fix:
    """Remove the BN; the last layer then needs the bias that the BN's beta stood in for.

    ``use_bias=False`` on the head goes (the Keras default is a bias). Where the head writes no
    ``use_bias`` the same edit changes nothing, but it claims the keyword, so that BN005's
    ``use_bias=False`` for this head (its bias is cancelled only while the BN is there) is not
    applied in the same pass: after the BN is gone, BN005 no longer applies.
    """
    edits = [Edit("remove-layer", bn.origin)]
    if head.known("use_bias", True) is False or "use_bias" not in head.args:
        edits.append(Edit("remove-keyword", head.origin, keyword="use_bias"))
    return Fix("Remove the BatchNormalization", Applicability.UNSAFE, tuple(edits))


def _head(graph: LayerGraph, bn: LayerNode) -> tuple[LayerNode, list[LayerNode]] | None:
    """The Dense or conv whose output alone reaches the BN, and the layers in between.

    Only layers that keep logits logits may sit between: pooling of class maps, a
    reshape, an output activation (a BN after the softmax is on the output too).
    """
    between: list[LayerNode] = []
    node = bn
    for _ in range(4):
        producers = graph.predecessors(node)
        if len(producers) != 1 or graph.is_output(producers[0]) or len(graph.successors(producers[0])) != 1:
            return None
        node = producers[0]
        if node.family in (Family.DENSE, Family.CONV):
            return node, between[::-1]
        if not _keeps_logits(node):
            return None
        between.append(node)
    return None


def _to_output(graph: LayerGraph, bn: LayerNode) -> list[LayerNode] | None:
    """The layers between the BN and a model output, when they only turn logits into a prediction."""
    after: list[LayerNode] = []
    node = bn
    for _ in range(4):
        consumers = graph.successors(node)
        if graph.is_output(node):
            return after if not consumers else None
        # A dropout after the BN is the identity at inference (and where BN003 moves one).
        if len(consumers) != 1 or not (_keeps_logits(consumers[0]) or consumers[0].family is Family.DROPOUT):
            return None
        node = consumers[0]
        after.append(node)
    return None


def _keeps_logits(node: LayerNode) -> bool:
    return node.family in _KEEPS_LOGITS or _activation_of(node) in _OUTPUT_ACTIVATIONS | {"linear"}


def _activation_of(node: LayerNode) -> str | None:
    if node.op == "Softmax":
        return "softmax"
    if node.op == "Activation":
        name = node.known("activation")
        return name if isinstance(name, str) else None
    return None


def _predicts(head: LayerNode) -> bool:
    """The head's width says it outputs predictions: one value, or as many as there are classes."""
    width = head.arg("units" if head.family is Family.DENSE else "filters")
    if width is None:
        return False
    if width.known and width.constant == 1:
        return True
    words = {w.lower() for text in (*width.names, width.expression) for w in _WORD.findall(text)}
    return bool(words & _PREDICTION_WORDS)


def _ends_a_model(graph: LayerGraph, bn: LayerNode) -> bool:
    """The BN's graph output is a model's: the graph is a model the code builds (``keras.Model(...)``,
    a ``Sequential``, a ``keras.Model`` subclass), or was traced from ``keras.Input`` to its end.

    A helper function's or a ``keras.layers.Layer``'s trace is a block: its return may feed
    more layers in a caller, and its inputs are placeholders without a source.
    """
    if graph.model or bn.style in ("sequential-list", "model-add"):
        return True
    inputs = [graph.node(i) for i in graph.ancestors({bn.id}) if graph.node(i).family is Family.INPUT]
    return bool(inputs) and all(node.origin is not None for node in inputs)
