"""Classify the layer classes a module defines itself.

A class that subclasses a Keras layer *is* that layer to the graph
(``class FrozenBN(layers.BatchNormalization)``). A class whose ``call`` only
multiplies its input by a weight or constant (and perhaps adds one) is a scale
op: the Caffe-port ``Scale`` layer that duplicates BN's own gamma and beta.
Any other Keras layer subclass is traced into: its ``__init__`` and ``call``.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True)
class ScaleShape:
    adds_bias: bool


def dotted_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return {stmt.name.value: stmt for stmt in body if isinstance(stmt, cst.FunctionDef)}


_ALLOWED_OPS = (cst.Multiply, cst.Add, cst.Subtract)


def scale_shape(cls: cst.ClassDef) -> ScaleShape | None:
    """A ScaleShape when the class's ``call`` is ``inputs * w (+ b)`` and nothing else."""
    call = methods(cls).get("call")
    if call is None or not isinstance(call.body, cst.IndentedBlock):
        return None
    params = [p.name.value for p in call.params.params]
    if len(params) < 2:
        return None
    derived = {params[1]}  # names that carry the input tensor
    multiplies = False
    adds = False
    for stmt in call.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        small = stmt.body[0]
        if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
            continue  # docstring
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            expr, target = small.value, small.targets[0].target.value
        elif isinstance(small, cst.Return) and small.value is not None:
            expr, target = small.value, None
        else:
            return None
        shape = _affine_of_input(expr, derived)
        if shape is None:
            return None
        multiplies |= shape[0]
        adds |= shape[1]
        if target is not None:
            if shape == (False, False) and not _mentions(expr, derived):
                continue  # a local constant such as ``w = self.gamma``
            derived.add(target)
    return ScaleShape(adds_bias=adds) if multiplies else None


def _mentions(expr: cst.BaseExpression, names: set[str]) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in names
    if isinstance(expr, cst.BinaryOperation):
        return _mentions(expr.left, names) or _mentions(expr.right, names)
    return False


def _affine_of_input(expr: cst.BaseExpression, derived: set[str]) -> tuple[bool, bool] | None:
    """(multiplies, adds) when ``expr`` is an affine map of the input, else None."""
    if isinstance(expr, cst.Name):
        return (False, False)
    if isinstance(expr, (cst.Integer, cst.Float)):
        return (False, False)
    if isinstance(expr, cst.Attribute) and dotted_name(expr) is not None:
        return (False, False) if not dotted_name(expr).startswith(tuple(derived)) else None  # type: ignore[union-attr]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _ALLOWED_OPS):
        left = _affine_of_input(expr.left, derived)
        right = _affine_of_input(expr.right, derived)
        if left is None or right is None:
            return None
        left_input, right_input = _mentions(expr.left, derived), _mentions(expr.right, derived)
        if left_input and right_input:
            return None  # input times input is not affine
        if not (left_input or right_input):
            return (False, False)
        if isinstance(expr.operator, cst.Multiply):
            return (True, left[1] or right[1])
        return (left[0] or right[0], True)
    return None


def lambda_scale_shape(node: cst.Lambda) -> ScaleShape | None:
    """``Lambda(lambda t: t * w + b)`` is a scale op too."""
    params = [p.name.value for p in node.params.params]
    if len(params) != 1:
        return None
    shape = _affine_of_input(node.body, {params[0]})
    if shape is None or not shape[0]:
        return None
    return ScaleShape(adds_bias=shape[1])
