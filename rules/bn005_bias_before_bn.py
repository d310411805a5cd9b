"""BN005 bias-before-bn: a Conv/Dense bias that the next BN's mean subtraction cancels."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import axis_matches, bn_axis
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# Ops between the linear layer and the BN that keep a per-channel constant a per-channel
# constant: pooling (max and average commute with adding a constant), and Flatten or a
# Reshape to features when the BN then normalizes each feature over the batch alone.
_SHIFT_EQUIVARIANT = {Family.POOL}
_BIAS_KEYWORDS = ("bias_initializer", "bias_regularizer", "bias_constraint")


class BiasBeforeBn(Rule):
    code = "BN005"
    name = "bias-before-bn"
    summary = "A Conv/Dense bias feeds a BatchNormalization whose mean subtraction cancels it."
    severity = Severity.INFO
    fix_safety = "unsafe"
    requires_every_instance = True  # the fix changes the layer in every use of a helper
    doc = """
## What it does
Finds a convolution or `Dense` layer with a bias (`use_bias=True`, the default)
whose output reaches a `BatchNormalization` on its channel axis through nothing
but pooling, `Flatten` or a `Reshape` to features, and feeds nothing else. Not
through an activation, `Dropout` (its mask multiplies the bias) or zero padding
(padding adds positions without the bias), and not when the BN is frozen
(`trainable=False`) or normalizes another axis (BN001's finding). A bias written
out as `use_bias=True` is taken as deliberate (converted weights that have one) and
not reported.

## Why is this bad?
BN subtracts the batch mean of each channel, and the mean of `x + b` is
`mean(x) + b`: the bias is cancelled exactly, and BN's own `beta` takes its role.
The bias costs parameters and memory, and gets zero gradient forever. Ioffe &
Szegedy (2015, section 3.2) drop it for this reason, and Keras's own InceptionV3,
Xception and EfficientNet build their convs with `use_bias=False` before BN.
Keras's ResNet50 keeps the bias because the converted weights it loads have one.

## Fix safety
The fix sets `use_bias=False` (and drops `bias_initializer`, `bias_regularizer`,
`bias_constraint`). It is unsafe: it changes the weight layout, so checkpoints
saved with the bias no longer load, and it saves parameters without changing what
the model computes. In a helper used several times it is offered only when every
use feeds such a BN.

## References
- Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by
  Reducing Internal Covariate Shift", ICML 2015, section 3.2.
- Keras applications: `InceptionV3`'s `conv2d_bn` (`use_bias=False` before BN).
"""
    bad = Example("""
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""", expect=1)
    good = Example("""
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for linear in graph.by_family(Family.CONV, Family.DENSE):
            if linear.known("use_bias", True) is not True or linear.conditional or _written_true(linear):
                continue
            bn = _normalizing_consumer(graph, linear)
            if bn is None:
                continue
            message = (f"the bias of {linear.label or linear.op} is cancelled by the mean subtraction of the "
                       f"{bn.label or 'BatchNormalization'} it feeds; its beta already shifts each channel")
            edits = [Edit("set-keyword", linear.origin, keyword="use_bias", value="False")]
            edits += [Edit("remove-keyword", linear.origin, keyword=k) for k in _BIAS_KEYWORDS if k in linear.args]
            fix, note = shape_changing_fix(Fix("Set `use_bias=False`", Applicability.UNSAFE, tuple(edits)),
                                           graph.facts)
            yield Finding(linear.origin, message + note, fix=fix)


def _written_true(linear: LayerNode) -> bool:
    """``use_bias=True`` spelled out: a deliberate bias (converted weights have one), as ``scale=True`` is for BN020."""
    value = linear.arg("use_bias")
    return value is not None and value.expression == "True"


def _normalizing_consumer(graph: LayerGraph, linear: LayerNode) -> LayerNode | None:
    """The BN that ``linear``'s output alone reaches through bias-preserving ops, if any."""
    current = linear
    while True:
        consumers = graph.successors(current)
        if len(consumers) != 1 or graph.is_output(current):
            return None
        nxt = consumers[0]
        if nxt.op == "BatchNormalization":
            frozen = nxt.known("trainable", True) is not True
            # A Dense's features are on its last axis at any rank: BN's default axis is theirs.
            on_features = current is linear and linear.family is Family.DENSE and bn_axis(nxt) == -1
            axis_right = on_features or axis_matches(graph, nxt) is True
            return nxt if not frozen and not nxt.conditional and axis_right else None
        if nxt.family in _SHIFT_EQUIVARIANT or nxt.op in ("Flatten", "Reshape") and nxt.rank == 2:
            current = nxt
            continue
        return None
