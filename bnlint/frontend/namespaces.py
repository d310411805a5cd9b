"""Layer namespaces the code obtains without a plain import.

Libraries hand ``layers`` around: a factory returns the Keras submodules
(``backend, layers, models, utils = get_submodules_from_kwargs(kwargs)``), a
module-level ``layers = None`` is filled in through ``global``, an object
stands in for the module (``layers = VersionAwareLayers()``), a function
argument or a class attribute holds it. The frontend cannot know those values,
but the code says what they are by what it does with them: an unknown object
whose ``BatchNormalization`` attribute is called, next to its ``Conv2D`` and
``Activation``, is a layers namespace. So an attribute of an unknown value that
names a Keras layer class is that class; the lower-case merge functions
(``add``, ``concatenate``) only on a value the code itself calls ``layers``,
since ``seen.add(x)`` is a set.
"""
from __future__ import annotations

import libcst as cst

from bnlint import ops
from bnlint.frontend.values import Ref

_MODEL_CLASSES = frozenset({"Model", "Sequential", "Functional"})
_BACKEND_FUNCTIONS = frozenset({"image_data_format", "set_image_data_format"})


def keras_attribute(base: cst.BaseExpression, name: str) -> Ref | None:
    """What ``<unknown>.name`` is when the unknown value is used as a Keras namespace, or None."""
    if name in _MODEL_CLASSES:
        return Ref(f"keras.models.{name}")
    if name in _BACKEND_FUNCTIONS:
        return Ref(f"keras.backend.{name}")
    if name[:1].isupper() and (name in ("Input", "Lambda") or ops.canonical(name) is not None):
        return Ref(f"keras.layers.{name}")
    if name in ops.MERGE_FUNCTIONS and _named_layers(base):
        return Ref(f"keras.layers.{name}")
    return None


def _named_layers(base: cst.BaseExpression) -> bool:
    """``layers``, ``self.layers``, ``kl.layers``: a value the code names as a layers module."""
    if isinstance(base, cst.Attribute):
        return base.attr.value == "layers"
    return isinstance(base, cst.Name) and base.value in ("layers", "L", "KL")
