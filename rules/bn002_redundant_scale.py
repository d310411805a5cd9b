"""BN002 redundant-scale: BN's gamma is repeated by an explicit scale op right after it."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import axis_matches
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix


class RedundantScale(Rule):
    code = "BN002"
    name = "redundant-scale"
    summary = "BatchNormalization is followed by an explicit scale op that repeats its learned scale (gamma)."
    severity = Severity.WARNING
    fix_safety = "safe"
    requires_every_instance = True
    doc = """
## What it does
Reports a BN followed by an explicit scale op: a custom `Scale` layer (the
Caffe-port idiom), a custom layer whose `call` only multiplies its input by a
weight or constant (and perhaps adds one), a `Lambda` or multiplication by a
weight or constant, a `Rescaling`. Two per-channel affine maps in a row are one,
whatever follows.

A BN whose gamma the next linear layer absorbs (BN → ReLU → Conv) is another
matter, left to the opt-in rule BN020 `absorbable-scale`.

## Why is this bad?
The scale op and gamma learn the same thing twice: parameters, optimizer state and
a redundant degree of freedom. Caffe's BatchNorm had no affine part, so ports add
a `Scale` layer after every BN; Keras's BN already has one.

## Fix safety
The fix sets `scale=False` (and `center=False` when the scale op also adds a bias);
it is safe. Removing the scale op itself is left to the author. In a file that
loads pretrained weights the fix is unsafe: the checkpoint's gamma no longer loads.

## References
- Keras API, `BatchNormalization`, argument `scale`: "If True, multiply by `gamma`.
  If False, `gamma` is not used."
"""
    bad = Example("""
from keras import layers

class Scale(layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.gamma

def block(x):
    x = layers.BatchNormalization()(x)
    x = Scale()(x)
    return layers.Activation("relu")(x)
""", expect=1)
    good = Example("""
from keras import layers

class Scale(layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.gamma

def block(x):
    x = layers.BatchNormalization(scale=False)(x)
    x = Scale()(x)
    return layers.Activation("relu")(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):
            if axis_matches(graph, bn) is False:
                continue  # BN001's finding: gamma is per column, nothing repeats it per channel
            finding = self._explicit_scale(graph, bn)
            if finding is not None:
                yield finding

    def _explicit_scale(self, graph: LayerGraph, bn: LayerNode) -> Finding | None:
        consumers = graph.successors(bn)
        if len(consumers) != 1 or consumers[0].family is not Family.SCALE:
            return None
        scale_op = consumers[0]
        adds_bias = scale_op.known("bias") is True or scale_op.op == "Rescaling" and scale_op.known("offset", 0) != 0
        keywords = [k for k, on in (("scale", True), ("center", adds_bias)) if on and bn.known(k, True) is not False]
        if not keywords or any(bn.is_unknown(k) for k in keywords):
            return None
        what = "scale and shift" if adds_bias else "scale"
        message = (f"BatchNormalization is followed by {scale_op.label}, which repeats its learned {what}; "
                   f"set {' and '.join(f'{k}=False' for k in keywords)} (the {scale_op.label} op can then go)")
        return self._finding(graph, bn, message, keywords)

    def _finding(self, graph: LayerGraph, bn: LayerNode, message: str, keywords: list[str]) -> Finding:
        edits = tuple(Edit("set-keyword", bn.origin, keyword=k, value="False") for k in keywords)
        fix = Fix(f"Set {', '.join(f'`{k}=False`' for k in keywords)}", Applicability.SAFE, edits)
        fix, note = shape_changing_fix(fix, graph.facts)
        return Finding(bn.origin, message + note, fix=fix)
