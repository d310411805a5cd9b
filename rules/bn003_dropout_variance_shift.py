"""BN003 dropout-variance-shift: heavy Dropout upstream of a BN."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint import ops
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule

# Layers that carry dropout's train/inference variance gap through unchanged in kind.
_CARRIES_SHIFT = {Family.CONV, Family.DENSE, Family.ACTIVATION, Family.POOL, Family.GLOBAL_POOL,
                  Family.RESHAPE, Family.PAD, Family.CROP, Family.UPSAMPLE, Family.DROPOUT,
                  Family.MERGE, Family.SCALE}


class DropoutVarianceShift(Rule):
    code = "BN003"
    name = "dropout-variance-shift"
    summary = "A Dropout at or above the threshold feeds a BatchNormalization downstream."
    severity = Severity.WARNING
    fix_safety = "unsafe"
    doc = """
## What it does
Finds a `Dropout` (also `SpatialDropout1D/2D/3D`, `GaussianDropout`, `AlphaDropout`)
with a rate at or above `dropout-threshold` (default 0.2) whose output reaches a
`BatchNormalization` through layers that do not renormalize: convolutions, dense
layers, activations, pooling, flatten, reshape, padding, merges. A path through
another normalization layer (LayerNormalization, GroupNormalization) ends the search.
A non-literal rate is unknown and never reported.

## Why is this bad?
Dropout scales activations during training only. A BN downstream learns moving
statistics under dropout's training-time variance and applies them at inference,
where that variance is different: the "variance shift". It grows with the rate and
is worst when the Dropout sits right before the BN. Li et al. recommend placing
Dropout after the last BN (right before the classifier), which is never reported.

## Fix safety
Unsafe: the fix moves the Dropout after the last BN of a simple chain, which
changes the model. Where a Dropout already follows that BN, the fix removes the
earlier one instead, so that dropouts are never stacked (three `Dropout(0.4)` in
a row drop 78% of the units). Lowering the rate to the threshold is the alternative.

## References
- X. Li, S. Chen, X. Hu, J. Yang, "Understanding the Disharmony between Dropout
  and Batch Normalization by Variance Shift", CVPR 2019.
"""
    bad = Example("""
from keras import layers

def block(x):
    x = layers.Dropout(0.5)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    return layers.BatchNormalization()(x)
""", expect=1)
    good = Example("""
from keras import layers

def block(x):
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return layers.Dropout(0.5)(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for dropout in graph.by_family(Family.DROPOUT):
            rate = dropout.known(ops.info(dropout.op).rate_argument or "rate")
            if dropout.conditional or not isinstance(rate, (int, float)) or rate < settings.dropout_threshold:
                continue
            found = self._next_bn(graph, dropout)
            if found is None:
                continue
            bn, between = found
            path = f" through {', '.join(between)}" if between else " directly"
            strongest = " (the strongest case: a high rate right before BN)" if not between and rate >= 0.5 else ""
            message = (f"{dropout.label}(rate={rate}) feeds {{0}}{path}: its moving variance, "
                       f"learned under dropout, will not match inference{strongest}; move the dropout after "
                       f"the last BatchNormalization or lower the rate below {settings.dropout_threshold}")
            fix = None
            if self._is_simple_chain(graph, dropout, bn):
                fix = self._fix(graph, dropout, bn)
            yield Finding(dropout.origin, message, fix=fix, related=((bn.origin, bn.label),))

    def _fix(self, graph: LayerGraph, dropout: LayerNode, bn: LayerNode) -> Fix | None:
        """Move the dropout after the BN; when one already sits there, remove this one instead of stacking."""
        if self._dropout_after(graph, bn) is not None:
            return Fix("Remove the dropout: one already follows the BatchNormalization", Applicability.UNSAFE,
                       (Edit("remove-layer", dropout.origin),))
        if bn.style != dropout.style:
            return None
        return Fix("Move the dropout after the BatchNormalization", Applicability.UNSAFE,
                   (Edit("move-layer-after", dropout.origin, anchor=bn.origin),))

    def _dropout_after(self, graph: LayerGraph, bn: LayerNode) -> LayerNode | None:
        """A dropout that the BN's output reaches through activations alone, with nothing else consuming it."""
        node = bn
        for _ in range(4):
            consumers = graph.successors(node)
            if len(consumers) != 1:
                return None
            node = consumers[0]
            if node.family is Family.DROPOUT:
                return node
            if node.family is not Family.ACTIVATION:
                return None
        return None

    def _next_bn(self, graph: LayerGraph, dropout: LayerNode) -> tuple[LayerNode, list[str]] | None:
        """The nearest BN the dropout's output reaches, and the layers on the way."""
        frontier: list[tuple[LayerNode, list[str]]] = [(n, []) for n in graph.successors(dropout)]
        seen: set[int] = set()
        while frontier:
            node, between = frontier.pop(0)
            if node.id in seen:
                continue
            seen.add(node.id)
            if node.op == "BatchNormalization":
                if node.conditional:
                    continue
                return node, between
            if node.family not in _CARRIES_SHIFT:
                continue
            label = [] if node.implicit else [node.label]
            frontier.extend((n, between + label) for n in graph.successors(node))
        return None

    def _is_simple_chain(self, graph: LayerGraph, start: LayerNode, end: LayerNode) -> bool:
        node = start
        while node is not end:
            consumers = graph.successors(node)
            if len(consumers) != 1 or len(graph.predecessors(consumers[0])) != 1:
                return False
            node = consumers[0]
        return True
