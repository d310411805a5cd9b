"""BN020 absorbable-scale: the next linear layer absorbs BN's gamma exactly."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import (
    ChannelAxis,
    axis_matches,
    channel_axis,
    is_channel_concatenation,
    is_linear_layer,
    is_positively_homogeneous,
    sole_linear_producer,
)
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import DataFormat, LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# Ops that multiply each channel by the same factor as their input, whatever its sign:
# average pooling is a mean, zero padding pads with zeros, the rest move or copy values.
_LINEAR_PER_CHANNEL = {"AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "ZeroPadding1D",
                       "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
                       "UpSampling1D", "UpSampling2D", "UpSampling3D"}
# Masks and multiplicative noise commute with a per-channel scale. AlphaDropout does not:
# it sets dropped units to a fixed value, whatever the scale.
_DROPOUT = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout"}
# Global average pooling keeps each channel as one feature: a Dense after it absorbs the scale.
_GLOBAL_AVERAGE = {"GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D"}
_GLOBAL_MAX = {"GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"}
_MAX_POOL = {"MaxPooling1D", "MaxPooling2D", "MaxPooling3D"}


class AbsorbableScale(Rule):
    code = "BN020"
    name = "absorbable-scale"
    summary = "BatchNormalization learns a scale (gamma) that the next linear layer absorbs exactly."
    severity = Severity.INFO
    enabled_by_default = False
    fix_safety = "unsafe"
    requires_every_instance = True
    doc = """
## What it does
Reports a `BatchNormalization` with `scale` left on whose every consumer path
reaches a linear layer (Conv*, Dense, depthwise/separable conv, Conv*Transpose)
through only ops that keep each channel's values in that channel: average or max
pooling, dropout, zero padding, cropping, upsampling, channel-axis concatenation,
and `Flatten` or global pooling when a `Dense` follows. The linear layer then
multiplies each channel by weights of its own, so gamma adds nothing it could not
learn.

A ReLU-family activation (ReLU without a cap or threshold, LeakyReLU, PReLU,
`"relu"`, `"leaky_relu"`) or a max pooling (global too) passes a positive gamma only. It is
allowed on the path when the BN's input comes straight from a linear layer that
feeds nothing else: a negative gamma's sign can then move into that layer.

Not reported when `scale=True` is written or `scale` is not known; when a path
reaches a `Reshape`/`Permute` (a Dense(h·w·c) → BN → Reshape((h, w, c)) → Conv
moves channels into positions, and the conv shares its kernel across positions),
a residual `Add`/`Multiply` or any merge other than a channel-axis concatenation,
the model output, or an activation that is not positively homogeneous (sigmoid,
tanh, ReLU6, swish, ...); when a ReLU or max pooling follows a BN whose input is
not a single linear layer (DenseNet's concatenation → BN → ReLU → Conv,
pre-activation residual blocks); and on a BN whose axis is not the channel axis
(BN001 reports it). Off by default: many well-known architectures keep gamma on
purpose, and their checkpoints have it.

## Why is this bad?
Gamma then costs parameters and optimizer state for a degree of freedom the next
layer already has. The Keras documentation of `scale` says so.

## Fix safety
The fix sets `scale=False`. It changes the weight layout of every model built from
the code only to save parameters, and no existing checkpoint of the model loads
after it, so it is always unsafe.

## References
- Keras API, `BatchNormalization`, argument `scale`: "If `True`, multiply by
  `gamma`. If `False`, `gamma` is not used. When the next layer is linear this can
  be disabled since the scaling will be done by the next layer."
- tf.keras 2 words it "When the next layer is linear (also e.g. `nn.relu`)": a ReLU
  passes a positive scale only, hence the condition on the layer before the BN.
"""
    bad = Example("""
from keras import layers

def block(x):
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.Conv2D(64, 3)(x)
""", expect=1)
    good = Example("""
from keras import layers

def block(x):
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization(scale=False)(x)
    x = layers.Activation("relu")(x)
    return layers.Conv2D(64, 3)(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in graph.by_op("BatchNormalization"):
            if "scale" in bn.args or bn.is_unknown("scale") or axis_matches(graph, bn) is False:
                continue  # the author chose, or BN001's finding: gamma is per column there
            linear = self._absorbing_layer(graph, bn)
            if linear is None:
                continue
            message = (f"BatchNormalization's scale (gamma) is absorbed exactly by the next linear layer "
                       f"({linear.label}); scale=False saves its parameters")
            edit = Edit("set-keyword", bn.origin, keyword="scale", value="False")
            fix, note = shape_changing_fix(Fix("Set `scale=False`", Applicability.UNSAFE, (edit,)), graph.facts)
            yield Finding(bn.origin, message + note, fix=fix)

    def _absorbing_layer(self, graph: LayerGraph, bn: LayerNode) -> LayerNode | None:
        """The first linear layer every consumer path of ``bn`` reaches exactly, or None if one does not."""
        where = channel_axis(graph, bn)
        sign_can_move = sole_linear_producer(graph, bn) is not None
        reached: list[LayerNode] = []
        # ``flat``: the channels have become the features of a rank-2 tensor (Flatten, global pooling).
        stack = [(node, False) for node in graph.successors(bn)]
        seen: set[tuple[int, bool]] = set()
        if not stack or graph.is_output(bn):
            return None
        while stack:
            node, flat = stack.pop()
            if (node.id, flat) in seen:
                continue
            seen.add((node.id, flat))
            if is_linear_layer(node):
                if node.op == "Dense" and not (flat or _features_last(bn, where)):
                    return None  # a Dense mixes the last axis, which is not the channels here
                if node.family is Family.CONV and flat:
                    return None
                reached.append(node)
                continue
            passes = _passes(node, flat, where, sign_can_move)
            consumers = graph.successors(node)
            if passes is None or graph.is_output(node) or not consumers:
                return None
            stack.extend((consumer, passes) for consumer in consumers)
        return min(reached, key=lambda n: n.id) if reached else None


def _passes(node: LayerNode, flat: bool, where: ChannelAxis | None, sign_can_move: bool) -> bool | None:
    """Whether ``node`` passes a per-channel scale on unchanged (the new ``flat``), or None if it does not."""
    if node.op in _DROPOUT or node.op == "Activation" and node.known("activation") == "linear":
        return flat
    if is_positively_homogeneous(node):
        return flat if sign_can_move else None
    if node.op == "Flatten":
        return True
    if flat:
        return True if node.op == "Concatenate" and node.known("axis", -1) in (-1, 1) else None
    if node.op in _LINEAR_PER_CHANNEL:
        return False
    if node.op in _MAX_POOL:
        return False if sign_can_move else None
    if node.op in _GLOBAL_AVERAGE or node.op in _GLOBAL_MAX and sign_can_move:
        return True
    if is_channel_concatenation(node, where):
        return False
    return None


def _features_last(bn: LayerNode, where: ChannelAxis | None) -> bool:
    """True when the BN's channels are the last axis, the one a Dense multiplies."""
    if where is not None:
        return where.data_format is DataFormat.CHANNELS_LAST
    return bn.known("axis", -1) == -1
