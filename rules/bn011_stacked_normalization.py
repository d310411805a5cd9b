"""BN011 stacked-normalization: a BatchNormalization whose output another normalization layer renormalizes at once."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import bn_axis
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# Layers that standardize their input again. UnitNormalization is left out: it projects each
# sample onto the unit sphere, and a BN before an L2 normalization is a deliberate embedding
# head (ArcFace's "BN-Dropout-FC-BN" output, then normalized by its loss).
_RENORMALIZING = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization")


class StackedNormalization(Rule):
    code = "BN011"
    name = "stacked-normalization"
    summary = "A BatchNormalization feeds another normalization layer directly, which standardizes it again."
    severity = Severity.INFO
    fix_safety = "unsafe"
    doc = """
## What it does
Finds a `BatchNormalization` whose output goes straight into another
normalization layer, with nothing in between: a second `BatchNormalization` on
the same axis, a `LayerNormalization`, a `GroupNormalization` or an
`RMSNormalization`. The BN must feed that layer alone: a BN whose output is also
used as it is (a residual branch, a model output) does work there and is not
reported. Two applications of one layer object (a loop that applies the same BN
to its own output) are not two layers and are not reported either. A pair
inside one branch of an undecided `if` is stacked whenever the branch runs and
is reported; a BN under a flag (`if use_bn:`) before a normalization that is
always there is not.

`UnitNormalization` does not count: it projects each sample onto the unit
sphere rather than standardizing it, and a BN before an L2 normalization is a
deliberate embedding head (ArcFace's `BN-Dropout-FC-BN` output, normalized by
its loss).

## Why is this bad?
A normalization layer recomputes the statistics of what it receives. After a BN,
a second BN on the same axis cancels the first one entirely: its mean
subtraction removes the first one's beta (Ioffe & Szegedy 2015, section 3.2, the
same argument that makes a bias before BN useless), and since BN's output does
not depend on the scale of its input (section 3.3), the first one's gamma is
removed too. The first layer's parameters get no gradient, and it costs memory,
time and moving statistics for nothing. Before a `LayerNormalization` or
`GroupNormalization` the pair is not exactly one layer (they normalize over other
axes), but the standardization the BN did is redone on the spot, and the BN keeps
its dependence on the batch for little gain. Two normalizations in a row are
almost always one option applied twice: a block that normalizes its output and a
caller that normalizes its input again.

## Fix safety
The fix removes the first layer, the BN, so the second normalization receives
its input directly. It is unsafe: it changes the model and its weights (a
checkpoint that holds the BN's gamma, beta and moving statistics no longer
loads), and before a `LayerNormalization` it changes what the model computes.
It is offered only for a BN applied in one place in a simple chain, or, in a
helper traced several times, when every use is followed by a normalization.

## References
- S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training
  by Reducing Internal Covariate Shift", ICML 2015, sections 3.2 and 3.3.
- J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer Normalization", 2016: the
  statistics are computed over the features of each sample, not over the batch.
- J. Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
  Recognition", CVPR 2019: the `BN-Dropout-FC-BN` embedding before normalization.
"""
    bad = Example("""
from keras import layers

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""", expect=1)
    good = Example("""
from keras import layers

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):
            if graph.is_output(bn):
                continue
            consumers = graph.successors(bn)
            if len(consumers) != 1:
                continue  # the BN's output is also used as it is: it does some work there
            second = consumers[0]
            # An undecided branch needs no test of its own: an optional second normalization
            # (``if extra: x = LayerNormalization()(x)``) leaves the BN a second consumer, an optional
            # BN (``if use_bn: x = BN()(x)``) leaves the next one a second producer; a pair inside
            # one branch is stacked whenever the branch runs.
            if second.op not in _RENORMALIZING or len(graph.predecessors(second)) != 1:
                continue
            if second.origin is bn.origin:
                continue  # one layer applied to its own output (a loop testing the update rule): not two layers
            if second.op == "BatchNormalization" and not _same_axis(bn, second):
                continue
            if second.op == "BatchNormalization":
                message = ("BatchNormalization feeds {0} directly, which normalizes the same axis again: the first "
                           "one's gamma and beta are cancelled and its statistics recomputed; remove the first")
            else:
                message = ("BatchNormalization feeds {0} directly, which standardizes the same tensor again: the "
                           "BN's work is redone at once, and two normalizations in a row are almost always one "
                           "applied twice; remove one of the two")
            fix, note = shape_changing_fix(
                Fix("Remove the first normalization", Applicability.UNSAFE, (Edit("remove-layer", bn.origin),)),
                graph.facts)
            yield Finding(bn.origin, message + note, fix=fix, related=((second.origin, second.label or second.op),))


def _same_axis(first: LayerNode, second: LayerNode) -> bool:
    """Both BNs normalize the same axis (unknown axes are taken to be the same only when written the same)."""
    a, b = bn_axis(first), bn_axis(second)
    if a is not None and b is not None:
        rank = first.rank
        return a == b or rank is not None and -rank <= min(a, b) and max(a, b) < rank and a % rank == b % rank
    left, right = first.arg("axis"), second.arg("axis")
    return left is not None and right is not None and left.expression == right.expression
