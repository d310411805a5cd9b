"""BN001 axis-mismatch: a BN normalizes another axis than the channel axis."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import bn_axis, channel_axis
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import DataFormat, LayerGraph
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix


class AxisMismatch(Rule):
    code = "BN001"
    name = "axis-mismatch"
    summary = "BatchNormalization normalizes an axis that is not the channel axis of its input."
    severity = Severity.ERROR
    fix_safety = "safe"
    doc = """
## What it does
Finds a `BatchNormalization` whose `axis` is not the channel axis of the tensor it
receives, given the data format of the nearest upstream layer that fixes a layout
(a convolution, pooling, upsampling, padding or cropping layer, or a global
`set_image_data_format(...)`).

## Why is this bad?
`axis` names the *features* axis: BN learns one gamma/beta pair and keeps one pair
of moving statistics per entry of that axis. After `Conv2D(..., data_format=
"channels_first")` the default `axis=-1` is the width axis, so the layer learns one
scale per image column and mixes all channels in its statistics. The model trains,
but it is not doing batch normalization. The reverse (`axis=1` on a channels_last
tensor) normalizes image rows. Rank-2 tensors (after `Flatten`, `Dense`, global
pooling) have one feature axis, where `1` and `-1` are the same and both right; an
axis computed from `image_data_format()` is right by construction and never reported.

## Fix safety
The fix sets `axis=` to the channel axis; it is safe. In a file that loads
pretrained weights it is unsafe: gamma, beta and the moving statistics change shape,
so existing checkpoints no longer load.

## References
- Keras API, `BatchNormalization`: "axis: Integer, the axis that should be
  normalized (typically the features axis). For instance, after a `Conv2D` layer
  with `data_format="channels_first"`, use `axis=1`."
"""
    bad = Example("""
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)
    return x
""", expect=1)
    good = Example("""
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization(axis=1)(x)
    return x
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):
            axis = bn_axis(bn)
            where = channel_axis(graph, bn)
            if axis is None or where is None or where.holds(axis) is not False:
                continue
            expected = 1 if where.data_format is DataFormat.CHANNELS_FIRST and where.rank != 2 else -1
            layout = "" if where.rank == 2 else f"{where.data_format.value} "
            source = "model input" if where.source.op == "Input" else f"{where.source.label} output"
            message = (
                f"BatchNormalization normalizes axis {axis} ({where.axis_name(axis)}) of a "
                f"{layout}{source}; the channel axis is {expected}"
            )
            fix = Fix(f"Set `axis={expected}`", Applicability.SAFE,
                      (Edit("set-keyword", bn.origin, keyword="axis", value=str(expected)),))
            fix, note = shape_changing_fix(fix, graph.facts)
            yield Finding(bn.origin, message + note, fix=fix)
