"""How the file itself spells a Keras layer class, so inserted layers read like the author's own.

Preference: the file's own spelling of that class (``layers.BatchNormalization``,
``BN``, ``KL.BatchNormalization``, ``tf.keras.layers.BatchNormalization``); else
the namespace it uses for its other layers (``layers.Conv2D`` ->
``layers.BatchNormalization``); else the bare name a ``from keras.layers import *``
already provides; else the name added to the file's own ``from ...layers import``
of other layer classes; else a new ``from ... import`` line.

An inserted BN also takes the file's own way of naming its axis: the variable
the other BNs around it pass (``axis=bn_axis``, ``axis=self.channel_axis``), or
``axis=1`` after a ``channels_first`` layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from bnlint.fixer.source import Refused, Source, enclosing, is_layers_module, root_name, walk
from bnlint.graph import DataFormat, LayerNode
from bnlint.ops import Family


@dataclass(frozen=True)
class NewImport:
    """An import the inserted code needs: a new statement, or a name added to one of the file's own."""

    statement: str = ""  # ``from keras.layers import BatchNormalization``, after the file's last import
    extend: cst.ImportFrom | None = None  # or: the file's ``from ...layers import A, B`` that gets ``name``
    name: str = ""


def layer_class(src: Source, name: str) -> tuple[str, NewImport | None]:
    """The expression naming Keras layer class ``name`` in this file, and an import to add (or None)."""
    namespace: str | None = None
    for entries in src.by_origin.values():
        for _, node in entries:
            call = node.origin
            if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
                continue
            root = root_name(call.func)
            bound = src.top_level_names.get(root) if root is not None else "other"
            if bound != "import" and not (bound is None and src.star_imports_layers):
                continue
            if node.op == name and node.label == name:
                return src.code(call.func), None
            # ``keras.Input`` and ``keras.Model`` live outside the layers namespace: not a spelling of it.
            if namespace is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == node.label \
                    and node.op == node.label and node.family not in (Family.INPUT, Family.MODEL):
                namespace = src.code(call.func.value)
    if namespace is not None:
        return f"{namespace}.{name}", None
    if src.top_level_names.get(name) == "other":
        raise Refused(f"the name {name} is taken in this file, and the file has no spelling of the Keras layer to reuse")
    if src.top_level_names.get(name) == "import" or (name not in src.top_level_names and src.star_imports_layers):
        return name, None
    # A file that imports its layer classes by name gets this one added to that import.
    for stmt in src.imports:
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative \
                    and isinstance(small.names, (list, tuple)) and is_layers_module(src.code(small.module)):
                return name, NewImport(extend=small, name=name)
    uses_tf = any("tensorflow" in src.code(s) for s in src.imports)
    uses_keras = any(_imports_keras(src, s) for s in src.imports)
    package = "tensorflow.keras.layers" if uses_tf and not uses_keras else "keras.layers"
    return name, NewImport(statement=f"from {package} import {name}")


def _imports_keras(src: Source, stmt: cst.CSTNode) -> bool:
    code = src.code(stmt).strip()
    return code.startswith(("import keras", "from keras"))


def bn_axis(src: Source, after: cst.Call) -> str | None:
    """The ``axis=`` source for a BN inserted after the layer ``after`` constructs; None: the default is right.

    The variable the file's other BNs pass, when they agree on one that is visible
    where the BN goes and its value (when known) is the channel axis of ``after``;
    else ``1`` when ``after`` is ``channels_first``.
    """
    nodes = [node for _, node in src.nodes_for(after)]
    formats = {node.data_format for node in nodes}
    spelled: set[str] = set()
    for entries in src.by_origin.values():
        for _, bn in entries:
            call = bn.origin
            if bn.op != "BatchNormalization" or not isinstance(call, cst.Call):
                continue
            value = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "axis"), None)
            if not isinstance(value, (cst.Name, cst.Attribute)) or not _visible(src, value, call, after):
                continue
            if not all(_is_channel_axis(bn.known("axis"), node) for node in nodes):
                continue
            spelled.add(src.code(value))
    if len(spelled) == 1:
        return spelled.pop()
    return "1" if formats == {DataFormat.CHANNELS_FIRST} else None


def _visible(src: Source, value: cst.BaseExpression, bn_call: cst.Call, after: cst.Call) -> bool:
    """``value``, written at ``bn_call``, means the same where a layer after ``after`` is inserted."""
    root = root_name(value)
    if root is None:
        return False
    function = enclosing(src, after, cst.FunctionDef)
    if function is not None and enclosing(src, bn_call, cst.FunctionDef) is function:
        return True
    if root == "self":
        cls = enclosing(src, after, cst.ClassDef)
        return cls is not None and enclosing(src, bn_call, cst.ClassDef) is cls
    return src.top_level_names.get(root) is not None and not _bound_in(function, root)


def _bound_in(function: cst.CSTNode | None, name: str) -> bool:
    """``name`` is a parameter of ``function`` or assigned in it (so the module's value is not the one seen)."""
    if function is None:
        return False
    if any(p.name.value == name for p in function.params.params + function.params.kwonly_params):
        return True
    return any(isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name) and n.target.value == name
               for n in walk(function))


def _is_channel_axis(axis: object, node: LayerNode) -> bool:
    """``axis`` (None: unknown) can be the channel axis of the output of ``node``."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        return True
    if node.data_format is DataFormat.CHANNELS_FIRST:
        return axis == 1
    if node.data_format is DataFormat.CHANNELS_LAST:
        return axis == -1 or (node.rank is not None and axis == node.rank - 1)
    return True
