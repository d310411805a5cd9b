"""BN layers a module constructs but no graph applies, kept for the rules about a layer's own arguments.

Layer libraries build their BN layers in ``build()`` into dicts keyed by level
names, and apply them in a ``call`` whose loops the frontend cannot follow; some
build them only under a flag whose default is off. Such a layer never becomes a
node of a graph, yet its ``momentum=`` or ``epsilon=`` can still be wrong. The
interpreter remembers every BN construction it traced, by call site; the ones
that no graph holds become detached nodes (no id in a graph, no edges). A BN
call the interpreter never reached at all (a branch it decided was not taken)
gets a node with what its own text says: literal values, and the names of the
expressions passed.
"""
from __future__ import annotations

import ast
import re
from typing import Any

import libcst as cst

from bnlint.frontend import keras_api
from bnlint.frontend.builder import POSITIONAL_PARAMETERS
from bnlint.frontend.custom_layers import dotted_name
from bnlint.frontend.interpreter import Interpreter
from bnlint.frontend.syntax_walk import calls_in
from bnlint.frontend.values import Ref
from bnlint.graph import LayerGraph, LayerNode, Value


def unapplied_norm_layers(interpreter: Interpreter, graphs: list[LayerGraph], source: str) -> list[LayerNode]:
    applied = {id(node.origin) for graph in graphs for node in graph.nodes}
    detached = []
    for origin_id, layer in interpreter.constructed_norms.items():
        if origin_id in applied or layer.origin is None:
            continue
        node = LayerNode(id=-1, op=layer.op, args=interpreter.layer_arguments(layer.arguments, layer.positional_names),
                         origin=layer.origin, label=layer.label, scope_names=layer.scope_names)
        node.unknown_kwargs = layer.arguments.open_keywords or layer.arguments.open_positional
        detached.append(node)
    # Only when the text has more BN calls than the interpreter met is the tree walked.
    if source.count("BatchNormalization(") > len(interpreter.constructed_norms):
        bound = frozenset(match.group(1) for match in _ASSIGNED.finditer(source))
        detached.extend(_untraced_calls(interpreter, applied, bound))
    return detached


# ``self.x = ...`` and ``x = ...``: the names an untraced call's arguments could have used.
_ASSIGNED = re.compile(r"^[ \t]*((?:self\.)?[A-Za-z_]\w*)[ \t]*=(?!=)", re.MULTILINE)


def _untraced_calls(interpreter: Interpreter, applied: set[int], bound: frozenset[str]) -> list[LayerNode]:
    found = []
    for node in calls_in(interpreter.module, into_lambdas=True):
        if id(node) not in interpreter.constructed_norms and id(node) not in applied:
            label = _batch_norm_label(node.func, interpreter.globals)
            if label is not None:
                found.append(LayerNode(id=-1, op="BatchNormalization", args=_literal_arguments(interpreter, node),
                                       origin=node, label=label, scope_names=bound,
                                       unknown_kwargs=any(arg.star for arg in node.args)))
    return found


def _batch_norm_label(func: cst.BaseExpression, globals_: dict[str, Any]) -> str | None:
    name = dotted_name(func)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    bound = globals_.get(head)
    qualname = (f"{bound.qualname}.{rest}" if rest else bound.qualname) if isinstance(bound, Ref) else name
    entry = keras_api.resolve(qualname)
    return entry.label if entry is not None and entry.kind == "layer" and entry.op == "BatchNormalization" else None


def _literal_arguments(interpreter: Interpreter, call: cst.Call) -> dict[str, Value]:
    names = POSITIONAL_PARAMETERS["BatchNormalization"]
    args: dict[str, Value] = {}
    position = 0
    for arg in call.args:
        if arg.star:
            continue
        if arg.keyword is not None:
            key = arg.keyword.value
        else:
            key = names[position] if position < len(names) else f"arg{position}"
            position += 1
        args[key] = _literal_value(interpreter, arg.value)
    return args


def _literal_value(interpreter: Interpreter, expr: cst.BaseExpression) -> Value:
    text = interpreter.module.code_for_node(expr)
    if isinstance(expr, cst.Name):
        names: tuple[str, ...] = (expr.value,)
    elif isinstance(expr, cst.Attribute):
        names = (expr.attr.value,)
    else:
        names = ()
    if isinstance(expr, (cst.Integer, cst.Float, cst.UnaryOperation, cst.SimpleString)) or \
            isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        try:
            return Value.of(ast.literal_eval(text), text, names)
        except (ValueError, SyntaxError):
            pass
    return Value.unknown(text, names)
