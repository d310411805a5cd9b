"""Classify the layer classes a module defines itself.

A class that subclasses a Keras layer *is* that layer to the graph
(``class FrozenBN(layers.BatchNormalization)``). A class whose ``call`` only
multiplies its input by a weight or constant (and perhaps adds one) is a scale
op: the Caffe-port ``Scale`` layer that duplicates BN's own gamma and beta.
Any other Keras layer subclass is traced into: its ``__init__`` and ``call``;
of an RNN cell, the parameter of ``call`` that receives the previous step's states.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from bnlint.frontend.syntax_walk import subnodes


@dataclass(frozen=True)
class ScaleShape:
    adds_bias: bool


def dotted_name(expr: cst.BaseExpression) -> str | None:
    # Exact types: LibCST's node classes have no subclasses, and ``isinstance`` against
    # them runs ABCMeta's check on every miss.
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.Attribute:
        base = dotted_name(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    return {stmt.name.value: stmt for stmt in body if type(stmt) is cst.FunctionDef}  # exact type, as above


def state_parameter(cls: cst.ClassDef) -> str | None:
    """The parameter of ``call`` that receives the previous time step's states, when the class is an RNN cell.

    Keras's cell protocol: a ``state_size`` (a class attribute, a property, or ``self.state_size = ...``
    in a method) and a ``call(inputs, states, ...)`` returning ``output, new_states``, which
    ``keras.layers.RNN`` runs once per time step on the states the step before returned. (The RNN
    layer itself has a ``state_size`` too, but its ``call`` returns the outputs.)
    """
    found = methods(cls)
    call = found.get("call")
    if call is None:
        return None
    params = [*call.params.posonly_params, *call.params.params]
    if len(params) < 3 or not _returns_output_and_states(call) or not _has_state_size(cls, found):
        return None
    return params[2].name.value


def _returns_output_and_states(function: cst.FunctionDef) -> bool:
    """A ``return a, b`` of exactly two values in the function's own body (not in a nested function)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            value = node.value
            if isinstance(value, cst.Tuple) and len(value.elements) == 2 \
                    and not any(isinstance(e, cst.StarredElement) for e in value.elements):
                return True
        elif not isinstance(node, (cst.BaseExpression, cst.FunctionDef, cst.ClassDef)):
            stack.extend(subnodes(node))
    return False


def _has_state_size(cls: cst.ClassDef, found: dict[str, cst.FunctionDef]) -> bool:
    if "state_size" in found:
        return True
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                    [small.target] if isinstance(small, cst.AnnAssign) else []
                if any(isinstance(t, cst.Name) and t.value == "state_size" for t in targets):
                    return True
    for method in found.values():
        stack: list[cst.CSTNode] = [method.body]
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.AssignTarget, cst.AnnAssign)):
                target = node.target
                if isinstance(target, cst.Attribute) and target.attr.value == "state_size" \
                        and isinstance(target.value, cst.Name) and target.value.value == "self":
                    return True
            if isinstance(node, cst.BaseExpression):
                continue  # no statement inside an expression (lambdas aside) sets an attribute
            stack.extend(subnodes(node))
    return False


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
