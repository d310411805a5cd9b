"""BN004 unet-encoder-missing-bn: a U-Net encoder stage reaches pooling or its skip without BN."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import is_downsampling, is_upsampling
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import Edge, LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule

# Between an encoder stage's tensor and its downsampling op.
_STAGE_INTERNAL = {Family.NORM, Family.ACTIVATION, Family.DROPOUT, Family.PAD}
# Between an upsampling op and the merge that takes its output (an "up-conv").
_DECODER_INTERNAL = {Family.NORM, Family.ACTIVATION, Family.DROPOUT, Family.PAD, Family.CROP, Family.CONV}
_MERGES = ("Concatenate", "Add")


class UnetEncoderMissingBn(Rule):
    code = "BN004"
    name = "unet-encoder-missing-bn"
    summary = "A U-Net encoder stage reaches its downsampling or its skip connection without BatchNormalization."
    severity = Severity.WARNING
    fix_safety = "unsafe"
    tokens = (b"UpSampling", b"Transpose", b"upsampling", b"Deconvolution")
    merge_tokens = (b"oncat", b"Add", b"add(")
    doc = """
## What it does
In a U-Net-like model (a `concatenate`/`Concatenate`/`Add` that joins an upsampled
tensor, from `UpSampling*` or `Conv*Transpose`, with a tensor of an encoder stage
that is also downsampled by pooling or a strided conv) reports:
1. a stage with no BN between its last conv and the downsampling, at that conv;
2. a stage that has a BN, but whose skip connection taps the tensor *before* it
   (`concatenate([up, conv2])` while `BatchNormalization()(conv2)` feeds the next
   stage), at the skip argument.
Severity is warning when the model normalizes other stages, or for shape 2; info
when the U-Net has no normalization at all (the original U-Net had none), where
the message also names `GroupNormalization` for small batches. A `concatenate` of
parallel branches without upsampling (Inception) is not a U-Net.

## Why is this bad?
An encoder stage's tensor is used twice: by the next, downsampled stage and by the
decoder through the skip connection. Normalizing it pays twice; leaving it out (or
tapping the skip before the BN) feeds the decoder unnormalized activations whose
scale drifts from the upsampled path they are concatenated with.

## Fix safety
Unsafe: it inserts `BatchNormalization()` after the stage's conv (shape 1) or takes
the skip from the BN output (shape 2), which changes the model.

## References
- The accepted answer to the Stack Overflow question on BN in non-sequential Keras
  U-Nets: BN after the convs, before max pooling, as those tensors are reused by
  the decoder.
- O. Ronneberger, P. Fischer, T. Brox, "U-Net", MICCAI 2015 (no normalization,
  batch of one tile).
"""
    bad = Example("""
from keras import layers

def unet(inputs):
    c1 = layers.Conv2D(16, 3, padding="same")(inputs)
    c1 = layers.BatchNormalization()(c1)
    c1 = layers.Activation("relu")(c1)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
    p2 = layers.MaxPooling2D()(c2)
    b = layers.Conv2D(64, 3, padding="same", activation="relu")(p2)
    u2 = layers.UpSampling2D()(b)
    m2 = layers.concatenate([u2, c2])
    u1 = layers.UpSampling2D()(m2)
    m1 = layers.concatenate([u1, c1])
    return layers.Conv2D(1, 1, activation="sigmoid")(m1)
""", expect=1)
    good = Example("""
from keras import layers

def unet(inputs):
    c1 = layers.Conv2D(16, 3, padding="same")(inputs)
    c1 = layers.BatchNormalization()(c1)
    c1 = layers.Activation("relu")(c1)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(32, 3, padding="same")(p1)
    c2 = layers.BatchNormalization()(c2)
    c2 = layers.Activation("relu")(c2)
    p2 = layers.MaxPooling2D()(c2)
    b = layers.Conv2D(64, 3, padding="same", activation="relu")(p2)
    u2 = layers.UpSampling2D()(b)
    m2 = layers.concatenate([u2, c2])
    u1 = layers.UpSampling2D()(m2)
    m1 = layers.concatenate([u1, c1])
    return layers.Conv2D(1, 1, activation="sigmoid")(m1)
""", expect=0)

    def could_fire(self, data: bytes) -> bool:
        return super().could_fire(data) and any(token in data for token in self.merge_tokens)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        normalized = any(n.family is Family.NORM for n in graph.nodes)
        reported: set[int] = set()
        for merge in graph.by_op(*_MERGES):
            slots: dict[int, list[Edge]] = {}
            for edge in graph.in_edges(merge):
                slots.setdefault(edge.slot, []).append(edge)
            upsampled = {s for s, edges in slots.items() if all(self._is_upsampled(graph, e.source) for e in edges)}
            if not upsampled or len(upsampled) == len(slots):
                continue
            for slot, edges in sorted(slots.items()):
                if slot in upsampled or len(edges) != 1:
                    continue
                finding = self._stage_finding(graph, edges[0], normalized, reported)
                if finding is not None:
                    yield finding

    def _is_upsampled(self, graph: LayerGraph, node_id: int) -> bool:
        node, steps = graph.node(node_id), 0
        while steps < 6:
            if is_upsampling(node):
                return True
            preds = graph.predecessors(node)
            if node.family not in _DECODER_INTERNAL or len(preds) != 1 or is_downsampling(node):
                return False
            node, steps = preds[0], steps + 1
        return False

    def _stage_finding(self, graph: LayerGraph, skip: Edge, normalized: bool, reported: set[int]) -> Finding | None:
        stage = graph.node(skip.source)
        while stage.family is Family.CROP and len(graph.predecessors(stage)) == 1:
            stage = graph.predecessors(stage)[0]
        path = self._path_to_downsampling(graph, stage)
        if path is None or stage.id in reported:
            return None
        reported.add(stage.id)
        bn_on_path = next((n for n in path if n.op == "BatchNormalization"), None)
        if bn_on_path is not None:
            message = (f"The skip connection takes this encoder stage's tensor before its BatchNormalization, "
                       f"which only feeds {path[-1].label}; take the skip from the BatchNormalization output")
            fix = Fix("Take the skip from the BatchNormalization output", Applicability.UNSAFE,
                      (Edit("retap-argument", skip.origin, anchor=bn_on_path.origin),))
            return Finding(skip.origin, message, severity=Severity.WARNING, fix=fix)
        conv = self._last_conv(graph, stage)
        if conv is None:
            return None
        if normalized:
            message = (f"This U-Net encoder stage has no BatchNormalization between its last {conv.label} and "
                       f"{path[-1].label}, unlike other stages; its output is reused by the decoder's skip "
                       "connection, so normalize it once here")
            severity = Severity.WARNING
        else:
            message = (f"This U-Net has no normalization: the encoder stage ending in {conv.label} feeds "
                       f"{path[-1].label} and a skip connection unnormalized; add BatchNormalization after the "
                       "conv (or GroupNormalization when training with small batches)")
            severity = Severity.INFO
        fix = Fix("Insert BatchNormalization after the conv", Applicability.UNSAFE,
                  (Edit("insert-layer-after", conv.origin, value="BatchNormalization()"),))
        return Finding(conv.origin, message, severity=severity, fix=fix)

    def _path_to_downsampling(self, graph: LayerGraph, stage: LayerNode) -> list[LayerNode] | None:
        """The stage-internal layers from ``stage`` to a downsampling op, ending with that op."""
        frontier: list[list[LayerNode]] = [[stage]]
        while frontier:
            path = frontier.pop(0)
            for node in graph.successors(path[-1]):
                if is_downsampling(node):
                    return path[1:] + [node]
                if node.family in _STAGE_INTERNAL and len(path) < 5:
                    frontier.append(path + [node])
        return None

    def _last_conv(self, graph: LayerGraph, stage: LayerNode) -> LayerNode | None:
        """The conv that produced the stage tensor, when no normalization sits in between."""
        node = stage
        for _ in range(6):
            if node.family is Family.CONV:
                return None if is_upsampling(node) else node
            preds = graph.predecessors(node)
            if node.family not in (Family.ACTIVATION, Family.DROPOUT, Family.PAD) or len(preds) != 1:
                return None
            node = preds[0]
        return None
