"""Questions about a LayerGraph that more than one rule asks.

The channel axis of a tensor is the main one: BN001 reports a BN that
normalizes another axis, and BN002/BN005/BN020 must stay silent about such a BN
("one defect, one finding"), so they all read the same answer from here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bnlint.graph import DataFormat, LayerGraph, LayerNode, Value
from bnlint.ops import POSITIVELY_HOMOGENEOUS_ACTIVATIONS, Family

# Ops whose output keeps the layout of their input.
_LAYOUT_PRESERVING = {Family.NORM, Family.ACTIVATION, Family.DROPOUT, Family.SCALE, Family.MERGE}
# Ops that fix a layout through their own ``data_format``.
_LAYOUT_FIXING = {Family.CONV, Family.POOL, Family.UPSAMPLE, Family.PAD, Family.CROP}
# Ops whose output has its features on the last axis whatever the data format.
_FEATURES_LAST = {Family.DENSE, Family.GLOBAL_POOL, Family.EMBEDDING, Family.RECURRENT}


@dataclass(frozen=True)
class ChannelAxis:
    """Where the channels of a tensor are, and which layer decided it."""

    rank: int | None
    data_format: DataFormat
    source: LayerNode

    @property
    def index(self) -> int:
        """The channel axis as Keras counts it: 1 for channels_first, the last axis otherwise."""
        if self.data_format is DataFormat.CHANNELS_FIRST:
            return 1
        return self.rank - 1 if self.rank is not None else -1

    def normalize(self, axis: int) -> int | None:
        """``axis`` as a non-negative index, or None if it cannot be placed."""
        if self.rank is None:
            return axis if axis >= 0 else None
        if -self.rank <= axis < self.rank:
            return axis % self.rank
        return None

    def holds(self, axis: int) -> bool | None:
        expected = self.index
        if self.rank is None:
            if self.data_format is DataFormat.CHANNELS_LAST:
                return axis == -1 if axis < 0 else None
            return axis == 1 if axis >= 0 else False
        return self.normalize(axis) == self.normalize(expected)

    def axis_name(self, axis: int) -> str:
        position = self.normalize(axis)
        if self.rank is None or position is None:
            return f"axis {axis}"
        spatial = {3: ["steps"], 4: ["height", "width"], 5: ["depth", "height", "width"]}.get(self.rank)
        if spatial is None:
            names = ["batch"] + ["features" if i == self.rank - 1 else f"axis {i}" for i in range(1, self.rank)]
        elif self.data_format is DataFormat.CHANNELS_FIRST:
            names = ["batch", "channels", *spatial]
        else:
            names = ["batch", *spatial, "channels"]
        return names[position]


def channel_axis(graph: LayerGraph, node: LayerNode) -> ChannelAxis | None:
    """The channel axis of the tensor ``node`` receives, when every upstream path agrees on it."""
    found: set[tuple[int | None, DataFormat]] = set()
    sources: list[LayerNode] = []
    seen: set[int] = set()
    stack = graph.predecessors(node)
    if not stack:
        return None
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        family = current.family
        keeps_layout = family in _LAYOUT_FIXING or family is Family.GLOBAL_POOL and (current.rank or 2) > 2
        if keeps_layout and current.data_format is not DataFormat.UNKNOWN:
            found.add((current.rank, current.data_format))
        elif family in _FEATURES_LAST or current.op == "Flatten":
            if current.rank is None:
                return None
            found.add((current.rank, DataFormat.CHANNELS_LAST))
        elif family is Family.INPUT:
            if current.rank is None or current.data_format is DataFormat.UNKNOWN:
                return None
            found.add((current.rank, current.data_format if current.rank > 2 else DataFormat.CHANNELS_LAST))
        elif family in _LAYOUT_PRESERVING and current.op not in ("Concatenate", "Dot"):
            preds = graph.predecessors(current)
            if not preds:
                return None
            stack.extend(preds)
            continue
        else:
            return None
        sources.append(current)
    if len(found) != 1:
        return None
    rank, data_format = found.pop()
    if rank == 2:
        data_format = DataFormat.CHANNELS_LAST  # one feature axis: 1 and -1 are the same
    return ChannelAxis(rank, data_format, sources[0])


def bn_axis(node: LayerNode) -> int | None:
    """The single axis a BN normalizes, or None if unknown or several."""
    axis = node.known("axis", -1)
    if isinstance(axis, (list, tuple)):
        axis = axis[0] if len(axis) == 1 else None
    return axis if isinstance(axis, int) and not isinstance(axis, bool) else None


def axis_matches(graph: LayerGraph, bn: LayerNode) -> bool | None:
    """True/False when the BN's axis is known to be/not be the channel axis; None if unknown."""
    axis = bn_axis(bn)
    where = channel_axis(graph, bn)
    if axis is None or where is None:
        return None
    return where.holds(axis)


def is_positively_homogeneous(node: LayerNode) -> bool:
    """An activation f with f(a*x) = a*f(x) for a > 0: a per-channel scale passes through it."""
    if node.op == "Activation":
        return node.known("activation") in POSITIVELY_HOMOGENEOUS_ACTIVATIONS
    if node.op == "ReLU":
        return node.known("max_value") is None and not node.is_unknown("max_value") and node.known("threshold", 0) == 0
    return node.op in ("LeakyReLU", "PReLU")


def is_linear_layer(node: LayerNode) -> bool:
    """A layer whose output is linear in each input channel: a conv of any kind or a Dense.

    Its ``activation=`` is a node of its own (``implicit``), so the node itself is linear.
    """
    return node.family is Family.CONV or node.op == "Dense"


def sole_linear_producer(graph: LayerGraph, node: LayerNode) -> LayerNode | None:
    """The linear layer that feeds ``node`` and nothing else (not even the model output), if any."""
    producers = graph.predecessors(node)
    if len(producers) != 1 or not is_linear_layer(producers[0]) or graph.is_output(producers[0]):
        return None
    producer = producers[0]
    return producer if [n.id for n in graph.successors(producer)] == [node.id] else None


def is_channel_concatenation(node: LayerNode, where: ChannelAxis | None) -> bool:
    """A ``Concatenate`` along the channel axis ``where`` of its inputs: each channel stays itself."""
    if node.op != "Concatenate" or where is None:
        return False
    axis = node.known("axis", -1)
    return isinstance(axis, int) and not isinstance(axis, bool) and where.holds(axis) is True


def is_downsampling(node: LayerNode) -> bool:
    if node.family is Family.POOL:
        return True
    if node.family is Family.CONV and not node.op.endswith("Transpose"):
        strides = node.known("strides", 1)
        values = strides if isinstance(strides, (tuple, list)) else (strides,)
        return any(isinstance(s, int) and s > 1 for s in values)
    return False


def is_upsampling(node: LayerNode) -> bool:
    return node.family is Family.UPSAMPLE or (node.family is Family.CONV and node.op.endswith("Transpose"))


def batch_norm_layers(graph: LayerGraph) -> list[LayerNode]:
    """The graph's BN nodes, then the module's BN layers that no graph applies (``ModuleFacts.unapplied_layers``).

    For the rules about a layer's own arguments (momentum, epsilon, swapped names):
    a BN built but never traced into a graph still has them.
    """
    return [*graph.by_op("BatchNormalization"),
            *(node for node in graph.facts.unapplied_layers if node.op == "BatchNormalization")]


# The words by which a name says which BN argument its value is for. ``decay`` is
# TF1's spelling of the momentum (``batch_norm_decay``).
BN_ARGUMENT_WORDS: dict[str, tuple[str, ...]] = {
    "momentum": ("momentum", "decay"),
    "epsilon": ("epsilon", "eps"),
    "axis": ("axis",),
    "center": ("center",),
    "scale": ("scale",),
}
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")


def named_for(name: str) -> set[str]:
    """The BN arguments a variable or attribute name is named after (``bn_eps`` -> {"epsilon"})."""
    words = {word.lower() for word in _NAME_WORD.findall(name)}
    if words & {"weight", "lr", "learning"}:
        words.discard("decay")  # a weight decay or learning-rate decay is no BN momentum
    return {argument for argument, spellings in BN_ARGUMENT_WORDS.items() if words & set(spellings)}


def swapped_name(argument: str, value: Value) -> tuple[str, str] | None:
    """The first name in the value's chain that is named for exactly one other argument."""
    for name in value.names:
        owners = named_for(name)
        if argument in owners:
            continue  # named for this argument here; a call site further up may still pass another's
        if len(owners) == 1:
            return name, owners.pop()
    return None
