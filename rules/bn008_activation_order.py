"""BN008 activation-order: a BN on the other side of its layer's activation than the team's convention."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule

PRE, POST = "pre-activation", "post-activation"
_NOT_AN_ACTIVATION = frozenset({"linear", "softmax", "log_softmax"})


class ActivationOrder(Rule):
    code = "BN008"
    name = "activation-order"
    summary = "A BatchNormalization sits on the other side of its layer's activation than the configured `bn-position`."
    severity = Severity.INFO
    enabled_by_default = False
    fix_safety = "unsafe"
    doc = """
## What it does
Enforces the team's convention for where a BN goes relative to the activation of
the conv or dense layer it normalizes, set by `bn-position` in the config:
- `"pre-activation"` (the default): conv → BN → activation. Reports a BN right
  after the activation (`Conv2D(..., activation="relu")` → BN, or conv → `ReLU()` → BN).
- `"post-activation"`: conv → activation → BN. Reports conv → BN → activation.
- `"consistent"`: each model's own majority order. Reports each BN whose order
  differs from the order most of the model's BNs use; on a tie, the BNs of the order
  that comes later in the model.
Only a BN with the layer and its activation right next to it is judged: a BN after
a merge, a pooling or the model input (ResNet v2's BN → ReLU → conv unit, whose BNs
each come before their ReLU, is pre-activation and never reported by the default).

## Why is this bad?
Both orders train, and the evidence between them is mixed, so this is a convention
rather than a defect: which one a team uses matters less than using one. Ioffe &
Szegedy (2015, sec. 3.2) normalize `Wu + b` right before the nonlinearity, since it
"is more likely to have a symmetric, non-sparse distribution"; ResNet v1
(He et al. 2015) and v2 (He et al. 2016, "Identity Mappings") and the Keras code
examples put BN before each ReLU. Others put it after: the Keras author noted that
"recent code written by Christian [Szegedy] applies relu before BN. It is still
occasionally a topic of debate" (keras-team/keras #1802), and a CaffeNet benchmark
on ImageNet measured BN after the ReLU ahead (top-1 0.499 against 0.474 before it;
ducha-aiki/caffenet-benchmark), hence `"post-activation"`. A model that mixes both
is harder to read and to port, and a ported checkpoint expects one order.

## Fix safety
Unsafe: it reorders layers. For `"pre-activation"` it splits `activation=` out of the
layer into an `Activation` layer after the BN (`Conv2D(..., activation="relu")` → BN
becomes `Conv2D(...)` → BN → `Activation("relu")`), or moves a separate activation
layer after the BN; for `"post-activation"` it moves the BN after the activation
layer. Offered only where the three layers form a simple chain (nothing else reads
the layer's or the activation's output) in the same list, block or model class; the
trained weights keep their shapes, but a model trained in one order must be
retrained in the other.

## Options
- `bn-position` (`"pre-activation"`, `"post-activation"` or `"consistent"`).

## References
- S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by
  Reducing Internal Covariate Shift", ICML 2015, sec. 3.2.
- K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
  CVPR 2016 (ResNet v1: BN right after each convolution, before the activation).
- K. He, X. Zhang, S. Ren, J. Sun, "Identity Mappings in Deep Residual Networks",
  ECCV 2016 (ResNet v2: BN → ReLU → conv, each BN before its activation).
- Keras code examples, "Image classification from scratch": `Conv2D` →
  `BatchNormalization` → `Activation("relu")` in every block.
- keras-team/keras issue #1802 (BN before or after the ReLU: "still occasionally a
  topic of debate"); ducha-aiki/caffenet-benchmark, `batchnorm.md` (BN after ReLU
  ahead on ImageNet).
"""
    bad = Example("""
from keras import layers

def block(x):
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return x
""", expect=1)
    good = Example("""
from keras import layers

def block(x):
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return x
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        placed = [p for p in (_placement(graph, bn) for bn in graph.by_op("BatchNormalization")) if p]
        if not placed:
            return
        wanted, counts = settings.bn_position, Counter(p.order for p in placed)
        if wanted == "consistent":
            # The majority order; on a tie, the order the model uses first, so the later ones are reported.
            wanted = max(counts, key=lambda order: (counts[order], -next(i for i, p in enumerate(placed)
                                                                         if p.order == order)))
        for p in placed:
            if p.order != wanted:
                yield self._finding(p, wanted, settings.bn_position == "consistent", counts)

    def _finding(self, p: _Placement, wanted: str, consistent: bool, counts: Counter[str]) -> Finding:
        act = p.activation
        name = act.known("activation") if act.op == "Activation" else act.label
        if p.order == POST:
            where = f"after the {name} activation of {{0}}"
        else:
            where = f"between {{0}} and its {name} activation"
        if consistent:
            why = (f"{counts[wanted]} of the {sum(counts.values())} BatchNormalization layers of this model that sit "
                   f"next to an activation are {wanted}, this one is {p.order}")
        else:
            why = f'the convention here (bn-position = "{wanted}") is {_shape(p.layer, wanted)}'
        return Finding(p.bn.origin, f"BatchNormalization sits {where}: {why}", fix=self._fix(p),
                       related=((p.layer.origin, p.layer.label),))

    def _fix(self, p: _Placement) -> Fix | None:
        if not p.chain:
            return None
        if p.order == POST and p.activation.implicit:
            return Fix("Split the activation out after the BatchNormalization", Applicability.UNSAFE,
                       (Edit("split-activation", p.layer.origin, anchor=p.bn.origin),))
        if p.order == POST:
            return Fix("Move the activation after the BatchNormalization", Applicability.UNSAFE,
                       (Edit("move-layer-after", p.activation.origin, anchor=p.bn.origin),))
        return Fix("Move the BatchNormalization after the activation", Applicability.UNSAFE,
                   (Edit("move-layer-after", p.bn.origin, anchor=p.activation.origin),))


@dataclass(frozen=True)
class _Placement:
    """A BN next to a conv/dense layer and that layer's activation, in one order or the other."""

    bn: LayerNode
    layer: LayerNode  # the conv or dense layer the BN normalizes
    activation: LayerNode
    order: str  # PRE: layer → BN → activation; POST: layer → activation → BN
    chain: bool  # nothing else reads the tensors in between (nor is one a model output): they can be reordered


def _placement(graph: LayerGraph, bn: LayerNode) -> _Placement | None:
    before = graph.predecessors(bn)
    if len(before) != 1 or bn.conditional:
        return None
    node = before[0]
    if _is_activation(node):
        layers = graph.predecessors(node)
        if len(layers) == 1 and _is_linear(layers[0]):
            chain = graph.successors(node) == [bn] and graph.successors(layers[0]) == [node] \
                and not graph.is_output(node) and not graph.is_output(layers[0])
            return _Placement(bn, layers[0], node, POST, chain)
        return None
    after = graph.successors(bn)
    if _is_linear(node) and len(after) == 1 and _is_activation(after[0]):
        chain = graph.successors(node) == [bn] and graph.predecessors(after[0]) == [bn] \
            and not graph.is_output(node) and not graph.is_output(bn)
        return _Placement(bn, node, after[0], PRE, chain)
    return None


def _is_linear(node: LayerNode) -> bool:
    return node.family in (Family.CONV, Family.DENSE) and not node.conditional


def _is_activation(node: LayerNode) -> bool:
    """A nonlinearity: an activation layer, or the one an ``activation=`` argument implies (not linear, not softmax)."""
    if node.family is not Family.ACTIVATION or node.op == "Softmax" or node.conditional:
        return False
    if node.op != "Activation":
        return True
    name = node.known("activation")
    return isinstance(name, str) and name not in _NOT_AN_ACTIVATION


def _shape(layer: LayerNode, order: str) -> str:
    return f"{layer.label} → BN → activation" if order == PRE else f"{layer.label} → activation → BN"
