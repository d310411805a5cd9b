"""What a module's training code does around its models: the facts BN rules need beyond one graph.

A BN layer's behaviour depends on how the model is trained as much as on where
the layer sits: the batch size it sees, whether a frozen pretrained base is
called in inference mode, whether TF1 code runs the moving-average updates,
whether a custom loop passes ``training=True``. The frontend collects these
facts once per module (``bnlint.frontend.training_facts``) and hangs them on
``ModuleFacts.training``; rules read them here and never see LibCST.

Like graph nodes, facts carry ``origin`` handles (the source nodes they came
from) that only the engine looks inside: a rule reports a finding at a fact's
origin, or asks the fixer to edit the call an origin names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingBatch:
    """A literal batch size that reaches ``fit()``: its own ``batch_size=`` or a ``.batch(n)`` it trains on."""

    size: int
    spelling: str  # how the code sets it, for messages: "fit(batch_size=2)", ".batch(2)"
    origin: Any = field(repr=False)  # the call that sets the size
    # Which model it trains: the entry (function, class, "Class.method", "<module>") whose
    # code calls ``fit()``, and the module's builder that made the fitted model, when named.
    entry: str = ""
    built_by: str = ""


@dataclass(frozen=True)
class BaseCall:
    """A call of a pretrained base model on a tensor: ``base(inputs)``, ``base(x, training=False)``."""

    origin: Any = field(repr=False)  # the call
    training: str  # "absent", "false", "true" or "other" (a variable)


@dataclass
class PretrainedBase:
    """A model with trained weights (a ``keras.applications`` model, ``load_model``) bound to a name."""

    name: str
    constructor: str  # "ResNet50", "load_model"
    origin: Any = field(repr=False)  # the constructing call
    frozen: Any = field(default=None, repr=False)  # the ``base.trainable = False`` statement, when there is one
    calls: list[BaseCall] = field(default_factory=list)
    # ``for layer in base.layers: layer.trainable = True`` with no BN exemption in the loop.
    unfreeze_all: Any = field(default=None, repr=False)
    # ``base.trainable = True`` after the last ``compile()`` of the scope (it has no effect until recompiled).
    unfrozen_after_compile: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class TapeCall:
    """A call inside a ``with tf.GradientTape()`` block: ``model(x)``, ``self.critic(x, training=True)``."""

    callee: str  # the name called (``model``, ``self.critic``)
    built_by: str  # what bound that name: a function or class of the module, "Sequential", "Model", ""
    training: str  # "absent", "false", "true" or "other"
    origin: Any = field(repr=False)


@dataclass(frozen=True)
class LayerCallTraining:
    """A layer or model called with a literal ``training=True`` outside any ``GradientTape`` block or ``train_step``."""

    callee: str
    built_by: str
    origin: Any = field(repr=False)  # the call


@dataclass(frozen=True)
class GradientPenalty:
    """Code that computes a gradient penalty on interpolated inputs (WGAN-GP), and the model it differentiates."""

    critic: str  # the name called on the interpolates (``critic``, ``self.discriminator``)
    built_by: str
    origin: Any = field(repr=False)  # the call of the critic on the interpolates


@dataclass
class TrainingFacts:
    batches: list[TrainingBatch] = field(default_factory=list)
    bases: list[PretrainedBase] = field(default_factory=list)
    tape_calls: list[TapeCall] = field(default_factory=list)
    literal_training_calls: list[LayerCallTraining] = field(default_factory=list)
    penalties: list[GradientPenalty] = field(default_factory=list)
    # TF1 graph code: the train ops (``optimizer.minimize(...)``) and whether the module
    # wires ``UPDATE_OPS`` into them (``get_collection(UPDATE_OPS)`` / ``control_dependencies``).
    train_ops: list[Any] = field(default_factory=list, repr=False)
    collects_update_ops: bool = False
    # A port from another framework: "a comment naming PyTorch", "momentum=0.1"; and whether the
    # module loads weights converted from it (``.pth``, ``torch.load``, ``.caffemodel``).
    port_evidence: str = ""
    loads_ported_weights: bool = False
    # The module's top-level functions and classes whose model has BN layers (``built_by`` names).
    bn_builders: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.batches or self.bases or self.tape_calls or self.literal_training_calls
                    or self.penalties or self.train_ops)
