"""Whether a module loads trained weights, from the calls it makes, not from its text.

A fix that changes a parameter's shape breaks every checkpoint saved before it,
so in such a file those fixes are downgraded to unsafe. The evidence is a *call*:
``model.load_weights(...)``, ``load_model(...)``, ``X.from_pretrained(...)`` /
``from_preset(...)``, ``tensorflow_hub.load(...)`` / ``KerasLayer(...)``, or a
``keras.applications`` constructor whose ``weights`` is not ``None`` (its
default is ``"imagenet"``). ``w = layer.get_weights()`` and
``EarlyStopping(restore_best_weights=True)`` load nothing.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from bnlint.frontend import keras_api
from bnlint.frontend.syntax_walk import calls_in
from bnlint.frontend.values import Const, Ref

# Methods and functions that load weights whatever object or module they are reached through.
_LOADERS = frozenset({"load_weights", "load_model", "from_pretrained", "from_preset"})
_HUB_LOADERS = frozenset({"load", "KerasLayer"})
# A file mentioning none of these cannot make such a call: no walk over its tree.
_TOKENS = ("load_weights", "load_model", "from_pretrained", "from_preset", "tensorflow_hub", "applications")


def loads_trained_weights(module: cst.Module, source: str, resolve: Any) -> bool:
    """True when some call in ``module`` loads trained weights.

    ``resolve(expr)`` evaluates an expression in the module's global scope (the
    frontend's name resolution): ``KA.ResNet50`` becomes ``keras.applications.ResNet50``.
    """
    if not any(token in source for token in _TOKENS):
        return False
    return any(_loads(call, resolve) for call in calls_in(module, into_lambdas=True))


def _loads(call: cst.Call, resolve: Any) -> bool:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _LOADERS:
        return True  # a method call on any object
    if not isinstance(func, (cst.Name, cst.Attribute)):
        return False
    callee = resolve(func)
    if not isinstance(callee, Ref):
        return False
    parts = callee.qualname.split(".")
    if parts[-1] in _LOADERS and keras_api.is_keras_path(callee.qualname):
        return True
    if parts[0] == "tensorflow_hub" and parts[-1] in _HUB_LOADERS:
        return True
    entry = keras_api.resolve(callee.qualname)
    if entry is None or entry.kind != "application":
        return False
    return not _is_none(_weights_argument(call), resolve)


def _weights_argument(call: cst.Call) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "weights":
            return arg.value
    return positional[1].value if len(positional) > 1 else None


def _is_none(expr: cst.BaseExpression | None, resolve: Any) -> bool:
    """Only a ``weights`` that is known to be None loads nothing; a missing one is ``"imagenet"``."""
    if not isinstance(expr, (cst.Name, cst.Attribute)):
        return False  # a call or an expression: resolving it could build layers; assume it loads
    value = resolve(expr)
    return isinstance(value, Const) and value.value is None
