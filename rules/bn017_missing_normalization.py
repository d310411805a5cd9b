"""BN017 missing-normalization: a deep plain conv stack with no normalization anywhere."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint import ops
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.prefilter import in_code
from bnlint.rule import Example, Rule
from bnlint.weights import CHECKPOINT_NOTE

_LINEAR = (Family.CONV, Family.DENSE)
# Layers a dropout's train/inference variance gap passes through unchanged in kind (as BN003 reads them).
_CARRIES_SHIFT = {Family.CONV, Family.DENSE, Family.ACTIVATION, Family.POOL, Family.GLOBAL_POOL, Family.RESHAPE,
                  Family.PAD, Family.CROP, Family.UPSAMPLE, Family.DROPOUT, Family.SCALE}
# Words in a layer's name that say it normalizes (InstanceNormalization, a custom ``PixelNorm``, ``self.norm1``).
_NORM_WORDS = ("norm", "whiten", "standardiz")


class MissingNormalization(Rule):
    code = "BN017"
    name = "missing-normalization"
    summary = "A deep plain stack of convolutions has no normalization layer anywhere."
    severity = Severity.INFO
    enabled_by_default = False
    fix_safety = "unsafe"
    # The conv layers the graph knows (``Conv2D``, ``Convolution2D``, ``SeparableConv2D``,
    # ``DepthwiseConv2D``, ``Deconvolution2D``, TF1's ``conv2d``), and a model to judge.
    tokens = (b"Conv1D", b"Conv2D", b"Conv3D", b"Convolution", b"SeparableConv", b"DepthwiseConv", b"Deconvolution",
              b"conv1d", b"conv2d", b"conv3d")
    model_tokens = (b"Model", b"Sequential", b"Functional")  # Keras's own applications build a ``Functional``

    def could_fire(self, data: bytes) -> bool:
        return super().could_fire(data) and in_code(data, self.model_tokens)
    doc = """
## What it does
Finds a model (a `keras.Model(...)`, a `Sequential`, a `keras.Model` subclass; not a
block traced on its own, such as a helper function that builds no model or a
`keras.layers.Layer` subclass, whose model may normalize elsewhere) whose longest
chain of convolutions has at least `min-conv-stack` (default 4) of them, that has no
normalization layer anywhere (no BatchNormalization, LayerNormalization,
GroupNormalization, no layer whose name says it normalizes, such as
`InstanceNormalization`, `SpectralNormalization` or a custom `PixelNorm`), and that is
a plain stack: no merge (a residual `Add`, a U-Net or Inception `concatenate`), no
sub-model whose insides are not traced. One finding per model, at its first conv.
This answers the common question "where do I add BatchNormalization to my VGG16?".

Not reported: a residual network (trained without normalization on purpose, as
Fixup or NFNets are), a U-Net (BN004's), a model whose name (or its builder's) says
it is a GAN critic or discriminator, or the critic a module differentiates for a
gradient penalty (WGAN-GP drops BN from the critic on purpose; BN018).

## Why is this bad?
A deep stack of convolutions without normalization is slow to train and sensitive to
its learning rate and initialization: VGG16 itself was trained by first training a
shallower network and initializing the deeper one from it (Simonyan & Zisserman
2014). Batch normalization lets such stacks train from scratch with much higher
learning rates (Ioffe & Szegedy 2015); the standard place is right after each
convolution and before its activation, as in ResNet v1 (He et al. 2015) and the
Keras code examples. It is advice, not a defect: small or shallow models, and
models trained with a batch of one or two, do fine without it.

## Fix safety
Unsafe: it adds layers, so the weight layout changes (a file that loads trained
weights is told that its checkpoints no longer load). The fix inserts
`BatchNormalization()` after each conv and each hidden Dense, in the file's own
style (a list element, a `model.add` line, `x = layers.BatchNormalization()(x)`,
or a `self.<conv>_bn` attribute in `__init__` and its call in `call`), with the
file's own spelling of the layer (adding it to the file's `from ...layers import`
when it imports layer classes by name). With `bn-position = "pre-activation"` (the
default, and for `"consistent"`, since the model has no BN to follow) the BN goes
before the activation: `Conv2D(..., activation="relu")` becomes `Conv2D(...)` →
`BatchNormalization()` → `Activation("relu")`. With `"post-activation"` it goes
after the activation. No BN goes after the last conv or dense layer of a path (the
output layer: see BN010), nor after a layer that a Dropout at or above
`dropout-threshold` feeds (that is the variance shift BN003 reports; Li et al. 2019).
Each conv keeps its bias, which the BN right after it makes redundant: BN005
reports those and drops them with its own fix.

## Options
- `min-conv-stack` (default 4): the fewest convolutions in a chain that count as deep.
- `bn-position`: where the inserted BN goes relative to the activation.

## References
- S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by
  Reducing Internal Covariate Shift", ICML 2015 (BN before the nonlinearity, sec. 3.2).
- K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
  Recognition", 2014 (VGG: no normalization, staged initialization).
- K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
  CVPR 2016 (BN right after each convolution and before its activation).
- K. He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016.
- Keras code examples, "Image classification from scratch" (`Conv2D` →
  `BatchNormalization` → `Activation("relu")`).
"""
    bad = Example("""
import keras
from keras import layers

def build_model():
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""", expect=1)
    good = Example("""
import keras
from keras import layers

def build_model():
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (32, 32, 64, 64):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        if not graph.model or _is_critic(graph) \
                or any(_normalizes(n) or n.family in (Family.MERGE, Family.MODEL) for n in graph.nodes):
            return
        depth = _conv_depth(graph)
        if depth < settings.min_conv_stack:
            return
        first = min((n for n in graph.nodes if n.family is Family.CONV and not n.implicit), key=lambda n: n.id)
        post = settings.bn_position == "post-activation"
        place = "after" if post else "before"
        message = (f"This model stacks {depth} convolutions in a row with no normalization layer anywhere; "
                   f"BatchNormalization after each conv ({place} its activation) lets a stack this deep train "
                   "from scratch at higher learning rates")
        edits = _edits(graph, settings, post)
        fix = None
        if edits:
            fix = Fix(f"Insert BatchNormalization after each conv and hidden Dense, {place} its activation",
                      Applicability.UNSAFE, edits)
            if graph.facts.loads_pretrained_weights:
                message += CHECKPOINT_NOTE
        # Every use of each edited layer was checked (``_edits``): the BN is right in all of them.
        yield Finding(first.origin, message, fix=fix, fix_right_in_every_use=True)


def _normalizes(node: LayerNode) -> bool:
    """A normalization layer, or a layer bnlint does not know whose name says it normalizes."""
    if node.family is Family.NORM:
        return True
    return node.family is Family.UNKNOWN and any(word in node.label.lower() for word in _NORM_WORDS)


def _is_critic(graph: LayerGraph) -> bool:
    """A GAN critic or discriminator: by its name, or the module differentiates it for a gradient penalty."""
    names = f"{graph.model} {graph.name} {graph.entry}".lower()
    if "discriminator" in names or "critic" in names:
        return True
    return any(not p.built_by or p.built_by in (graph.model, graph.entry, graph.name)
               for p in graph.facts.training.penalties)


def _conv_depth(graph: LayerGraph) -> int:
    """The most convolutions on one path through the graph (nodes are numbered after their inputs)."""
    depth: dict[int, int] = {}
    for node in graph.nodes:
        before = max((depth.get(p.id, 0) for p in graph.predecessors(node)), default=0)
        depth[node.id] = before + (node.family is Family.CONV and not node.implicit)
    return max(depth.values(), default=0)


def _edits(graph: LayerGraph, settings: Settings, post: bool) -> tuple[Edit, ...]:
    """A BN after each conv and hidden Dense, for the layers where it is right in every use (a helper, a loop)."""
    excluded: set[int] = set()  # layers written once whose uses disagree: they get no BN anywhere
    while True:
        normalized: set[int] = set()  # nodes a BN goes after, decided in graph order
        verdicts: dict[int, set[bool]] = {}
        for node in graph.nodes:
            if node.family not in _LINEAR or node.implicit:
                continue
            wanted = id(node.origin) not in excluded and _has_linear_downstream(graph, node) \
                and not _fed_by_heavy_dropout(graph, node, normalized, settings)
            if wanted:
                normalized.add(node.id)
            verdicts.setdefault(id(node.origin), set()).add(wanted)
        mixed = {origin for origin, seen in verdicts.items() if len(seen) > 1}
        if mixed <= excluded:
            break
        excluded |= mixed
    edits, done = [], set()
    for node in graph.nodes:
        if node.id in normalized and id(node.origin) not in done:
            done.add(id(node.origin))
            edits.append(_insert(graph, node, post))
    return tuple(edits)


def _insert(graph: LayerGraph, node: LayerNode, post: bool) -> Edit:
    if not post:
        return Edit("insert-layer-after", node.origin, value="BatchNormalization()")
    after = graph.successors(node)
    if len(after) == 1 and after[0].family is Family.ACTIVATION and not after[0].implicit \
            and graph.predecessors(after[0]) == [node]:
        node = after[0]  # conv → ReLU() → BN: after the separate activation layer
    return Edit("insert-layer-after", node.origin, value="BatchNormalization()", placement="after-activation")


def _has_linear_downstream(graph: LayerGraph, node: LayerNode) -> bool:
    """Another conv or dense layer reads this one's output: it is not the last (output) layer of its path."""
    stack, seen = graph.successors(node), set()
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.family in _LINEAR and not current.implicit:
            return True
        stack.extend(graph.successors(current))
    return False


def _fed_by_heavy_dropout(graph: LayerGraph, node: LayerNode, normalized: set[int], settings: Settings) -> bool:
    """A dropout at or above the threshold reaches ``node`` with no inserted BN in between."""
    stack, seen = graph.predecessors(node), set()
    while stack:
        current = stack.pop()
        if current.id in seen or current.id in normalized:
            continue
        seen.add(current.id)
        if current.family is Family.DROPOUT:
            rate = current.known(ops.info(current.op).rate_argument or "rate")
            if isinstance(rate, (int, float)) and rate >= settings.dropout_threshold:
                return True
        if current.family in _CARRIES_SHIFT:
            stack.extend(graph.predecessors(current))
    return False
