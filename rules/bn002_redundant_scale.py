"""BN002 redundant-scale: BN's gamma is duplicated or absorbed by what follows."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import axis_matches, channel_axis, is_positively_homogeneous
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# Ops that commute with a positive per-channel scale, so a linear layer after them absorbs it.
_SCALE_TRANSPARENT = {Family.POOL, Family.GLOBAL_POOL, Family.DROPOUT, Family.RESHAPE, Family.PAD,
                      Family.CROP, Family.UPSAMPLE}


class RedundantScale(Rule):
    code = "BN002"
    name = "redundant-scale"
    summary = "BatchNormalization learns a scale (gamma) that the next op duplicates or absorbs."
    severity = Severity.WARNING
    fix_safety = "safe"
    requires_every_instance = True
    doc = """
## What it does
Two shapes:
1. *BN followed by an explicit scale op* — a custom `Scale` layer (the Caffe-port
   idiom), a `Lambda` or multiplication by a weight or constant, a `Rescaling`.
   Reported as a warning: the two per-channel affine maps in a row are one.
2. *BN with `scale` on, whose every consumer path reaches a linear layer* (Conv*,
   Dense, depthwise/separable/transposed conv) through only positively homogeneous
   activations (ReLU without a cap, LeakyReLU, PReLU), pooling, dropout, flatten,
   reshape, padding, upsampling or channel-axis concatenation. Reported as info:
   the next linear layer absorbs the per-channel scale.

Not reported when gamma carries meaning: a path to a residual `Add`, a multiply
with another branch, the model output or a non-homogeneous activation (sigmoid,
tanh, softmax, gelu, swish, elu, ReLU6); nor when `scale=True` is written out.

## Why is this bad?
Gamma then costs parameters and optimizer state and adds a redundant degree of
freedom. Caffe's BatchNorm had no affine part, so ports add a `Scale` layer after
every BN; Keras's BN already has one.

## Fix safety
The fix sets `scale=False` (and `center=False` when the scale op also adds a bias);
it is safe. Removing the scale op itself is left to the author. In a file that
loads pretrained weights the fix is unsafe: the checkpoint's gamma no longer loads.

## References
- Keras API, `BatchNormalization`, argument `scale`: "When the next layer is linear
  (also e.g. `nn.relu`), this can be disabled since the scaling will be done by the
  next layer."
"""
    bad = Example("""
from keras import layers

def block(x):
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.Conv2D(64, 3)(x)
""", expect=1)
    good = Example("""
from keras import layers

def block(x):
    x = layers.BatchNormalization(scale=False)(x)
    x = layers.Activation("relu")(x)
    return layers.Conv2D(64, 3)(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):
            if axis_matches(graph, bn) is False:
                continue  # BN001's finding: gamma is per column, nothing absorbs it
            finding = self._explicit_scale(graph, bn) or self._absorbed_scale(graph, bn)
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
        return self._finding(graph, bn, message, keywords, Severity.WARNING)

    def _absorbed_scale(self, graph: LayerGraph, bn: LayerNode) -> Finding | None:
        if "scale" in bn.args or bn.is_unknown("scale") or graph.is_output(bn):
            return None
        linear = self._absorbing_layer(graph, bn)
        if linear is None:
            return None
        message = (f"BatchNormalization's scale (gamma) is absorbed by the next linear layer ({linear.label}); "
                   "set scale=False")
        return self._finding(graph, bn, message, ["scale"], Severity.INFO)

    def _absorbing_layer(self, graph: LayerGraph, bn: LayerNode) -> LayerNode | None:
        """The first linear layer every consumer path of ``bn`` reaches, or None if one path does not."""
        reached: list[LayerNode] = []
        where = channel_axis(graph, bn)
        stack, seen = graph.successors(bn), set()
        if not stack:
            return None
        while stack:
            node = stack.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            if node.family in (Family.CONV, Family.DENSE):
                reached.append(node)
                continue
            passes = (
                node.family in _SCALE_TRANSPARENT
                or node.family is Family.ACTIVATION and is_positively_homogeneous(node)
                or node.op == "Concatenate" and where is not None and isinstance(node.known("axis", -1), int)
                and where.holds(node.known("axis", -1)) is True
            )
            consumers = graph.successors(node)
            if not passes or graph.is_output(node) or not consumers:
                return None
            stack.extend(consumers)
        return min(reached, key=lambda n: n.id) if reached else None

    def _finding(self, graph: LayerGraph, bn: LayerNode, message: str, keywords: list[str],
                 severity: Severity) -> Finding:
        edits = tuple(Edit("set-keyword", bn.origin, keyword=k, value="False") for k in keywords)
        fix = Fix(f"Set {', '.join(f'`{k}=False`' for k in keywords)}", Applicability.SAFE, edits)
        fix, note = shape_changing_fix(fix, graph.facts)
        return Finding(bn.origin, message + note, severity=severity, fix=fix)
