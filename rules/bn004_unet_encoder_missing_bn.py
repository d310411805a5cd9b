"""BN004 unet-encoder-missing-bn: a U-Net encoder stage reaches pooling or its skip without BN."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
    # The upsampling layers (``UpSampling2D``, ``Conv2DTranspose``, ``Deconvolution2D``): a
    # ``transpose`` of an array upsamples nothing.
    tokens = (b"UpSampling", b"DTranspose", b"Deconvolution")
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
The first encoder stage, the one applied to the model input (no downsampling
before it), is not reported for shape 1 when another encoder stage of the same
U-Net is normalized: pix2pix (its C64 layer) and DCGAN (the discriminator's input
layer) leave it out on purpose.
Severity is warning when other encoder stages of this U-Net are normalized, or for
shape 2; info when its encoder has no normalization at all (the original U-Net had
none), where the message also names `GroupNormalization` for small batches. A
`concatenate` of parallel branches without upsampling (Inception) is not a U-Net.
The message names the stage's last conv and its downsampling op (a pooling, or the
next stage's strided conv) with their lines.

## Why is this bad?
An encoder stage's tensor is used twice: by the next, downsampled stage and by the
decoder through the skip connection. Normalizing it pays twice; leaving it out (or
tapping the skip before the BN) feeds the decoder unnormalized activations whose
scale drifts from the upsampled path they are concatenated with.

## Fix safety
Unsafe: it inserts `BatchNormalization()` after the stage's conv (shape 1) or takes
the skip from the BN output (shape 2), which changes the model. When the conv is
written once and applied in several places (a helper, a loop), the BN goes into every
one of them, so the fix is offered only when none of those places is normalized
already or is the exempt first stage.

## References
- The accepted answer to the Stack Overflow question on BN in non-sequential Keras
  U-Nets: BN after the convs, before max pooling, as those tensors are reused by
  the decoder.
- O. Ronneberger, P. Fischer, T. Brox, "U-Net", MICCAI 2015 (no normalization,
  batch of one tile).
- P. Isola et al., "Image-to-Image Translation with Conditional Adversarial
  Networks" (pix2pix), CVPR 2017: no BatchNorm on the first C64 layer.
- A. Radford, L. Metz, S. Chintala, "Unsupervised Representation Learning with
  Deep Convolutional GANs" (DCGAN), ICLR 2016: no BN on the discriminator's input layer.
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
        stages = list(self._stages(graph))
        exempt = {id(stage.conv.origin) for stage in stages if self._exempt(graph, stage, stages)}
        for stage in stages:
            if stage.bn_on_path is not None:
                yield self._skip_before_bn(stage)
            elif stage.conv is not None and not stage.normalized and not self._exempt(graph, stage, stages):
                yield self._missing_bn(graph, stage, stages, exempt)

    def _stages(self, graph: LayerGraph) -> Iterator[_Stage]:
        """Every encoder stage of this U-Net: a tensor both downsampled and taken by a skip connection."""
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
                stage = graph.node(edges[0].source)
                while stage.family is Family.CROP and len(graph.predecessors(stage)) == 1:
                    stage = graph.predecessors(stage)[0]
                path = self._path_to_downsampling(graph, stage)
                if path is None or stage.id in reported:
                    continue
                reported.add(stage.id)
                conv, normalized_before = self._last_conv(graph, stage)
                bn_on_path = next((n for n in path if n.op == "BatchNormalization"), None)
                normalized = normalized_before or any(n.family is Family.NORM for n in path[:-1])
                if conv is not None and not normalized and _normalized_under_a_flag(graph, conv):
                    continue  # normalized or not by a flag (``if use_batch_norm:``) the trace left open
                yield _Stage(stage, edges[0], path, conv, bn_on_path, normalized)

    def _exempt(self, graph: LayerGraph, stage: _Stage, stages: list[_Stage]) -> bool:
        """The first stage, on the model input, left unnormalized while other stages are (pix2pix C64, DCGAN)."""
        return stage.conv is not None and not stage.normalized and _on_model_input(graph, stage.conv) \
            and any(other.normalized for other in stages if other is not stage)

    def _skip_before_bn(self, stage: _Stage) -> Finding:
        message = ("The skip connection takes this encoder stage's tensor before its {0}, which only "
                   "feeds {1}; take the skip from the BatchNormalization output")
        fix = Fix("Take the skip from the BatchNormalization output", Applicability.UNSAFE,
                  (Edit("retap-argument", stage.skip.origin, anchor=stage.bn_on_path.origin),))
        return Finding(stage.skip.origin, message, severity=Severity.WARNING, fix=fix,
                       related=((stage.bn_on_path.origin, stage.bn_on_path.label), _downsampling(stage)))

    def _missing_bn(self, graph: LayerGraph, stage: _Stage, stages: list[_Stage], exempt: set[int]) -> Finding:
        conv = stage.conv
        if any(other.normalized for other in stages):
            message = ("This U-Net encoder stage has no BatchNormalization between its last {0} and {1}, "
                       "unlike other stages of this U-Net; its output is reused by the decoder's skip "
                       "connection, so normalize it once here")
            severity = Severity.WARNING
        else:
            message = ("This U-Net has no normalization: the encoder stage ending in {0} feeds {1} and a skip "
                       "connection unnormalized; add BatchNormalization after the conv (or GroupNormalization "
                       "when training with small batches)")
            severity = Severity.INFO
        fix = Fix("Insert BatchNormalization after the conv", Applicability.UNSAFE,
                  (Edit("insert-layer-after", conv.origin, value="BatchNormalization()"),))
        # The conv may be written once and applied in several places (a helper, a loop): the
        # inserted BN is right in all of them when none is normalized already or exempt.
        uses = [n for n in graph.nodes if n.origin is conv.origin and not n.implicit]
        every_use = id(conv.origin) not in exempt and not any(_normalized_after(graph, n) for n in uses)
        return Finding(conv.origin, message, severity=severity, fix=fix,
                       related=((conv.origin, conv.label), _downsampling(stage)), fix_right_in_every_use=every_use)

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

    def _last_conv(self, graph: LayerGraph, stage: LayerNode) -> tuple[LayerNode | None, bool]:
        """The conv that produced the stage tensor, and whether a normalization sits in between."""
        node, normalized = stage, False
        for _ in range(6):
            if node.family is Family.CONV:
                return (None if is_upsampling(node) else node), normalized
            preds = graph.predecessors(node)
            if node.family not in (Family.ACTIVATION, Family.DROPOUT, Family.PAD, Family.NORM) or len(preds) != 1:
                return None, normalized
            normalized = normalized or node.family is Family.NORM
            node = preds[0]
        return None, normalized


def _normalized_under_a_flag(graph: LayerGraph, conv: LayerNode) -> bool:
    """A BN right after the conv (or its activation) that only a branch the trace could not decide applies."""
    near = graph.successors(conv)
    near += [n for a in near if a.family is Family.ACTIVATION for n in graph.successors(a)]
    return any(n.family is Family.NORM and n.conditional for n in near)


@dataclass
class _Stage:
    """One encoder stage of a U-Net: its tensor, the skip that takes it, and how it is normalized."""

    node: LayerNode
    skip: Edge
    path: list[LayerNode]  # the stage-internal layers up to the downsampling op, ending with it
    conv: LayerNode | None  # the conv that produced the stage tensor
    bn_on_path: LayerNode | None  # a BN after the stage tensor, before the downsampling (shape 2)
    normalized: bool  # a normalization between the conv and the downsampling


def _downsampling(stage: _Stage) -> tuple[object, str]:
    """The stage's downsampling op, as a reader finds it: the pooling, or the next stage's strided conv."""
    down = stage.path[-1]
    return down.origin, (f"the next stage's strided {down.label}" if down.family is Family.CONV else down.label)


def _on_model_input(graph: LayerGraph, conv: LayerNode) -> bool:
    """True when nothing upstream of ``conv`` downsamples: the stage is applied to the model input."""
    stack, seen = graph.predecessors(conv), set()
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if is_downsampling(node):
            return False
        stack.extend(graph.predecessors(node))
    return True


def _normalized_after(graph: LayerGraph, conv: LayerNode) -> bool:
    """A normalization follows ``conv`` within its activation/dropout/padding chain."""
    frontier, steps = graph.successors(conv), 0
    while frontier and steps < 4:
        if any(n.family is Family.NORM for n in frontier):
            return True
        frontier = [s for n in frontier if n.family in _STAGE_INTERNAL for s in graph.successors(n)]
        steps += 1
    return False
