"""How the file itself spells a Keras layer class, so inserted layers read like the author's own.

Preference: the file's own spelling of that class (``layers.BatchNormalization``,
``BN``, ``KL.BatchNormalization``, ``tf.keras.layers.BatchNormalization``); else
the namespace it uses for its other layers (``layers.Conv2D`` ->
``layers.BatchNormalization``); else a new ``from ... import`` line.
"""
from __future__ import annotations

import libcst as cst

from bnlint.fixer.source import Refused, Source, root_name


def layer_class(src: Source, name: str) -> tuple[str, str | None]:
    """The expression naming Keras layer class ``name`` in this file, and an import to add (or None)."""
    namespace: str | None = None
    for entries in src.by_origin.values():
        for _, node in entries:
            call = node.origin
            if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
                continue
            root = root_name(call.func)
            if root is None or src.top_level_names.get(root) != "import":
                continue
            if node.op == name and node.label == name:
                return src.code(call.func), None
            if namespace is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == node.label \
                    and node.op == node.label:
                namespace = src.code(call.func.value)
    if namespace is not None:
        return f"{namespace}.{name}", None
    if src.top_level_names.get(name) == "other":
        raise Refused(f"the name {name} is taken in this file, and the file has no spelling of the Keras layer to reuse")
    if src.top_level_names.get(name) == "import":
        return name, None
    uses_tf = any("tensorflow" in src.code(s) for s in src.imports)
    uses_keras = any(_imports_keras(src, s) for s in src.imports)
    package = "tensorflow.keras.layers" if uses_tf and not uses_keras else "keras.layers"
    return name, f"from {package} import {name}"


def _imports_keras(src: Source, stmt: cst.CSTNode) -> bool:
    code = src.code(stmt).strip()
    return code.startswith(("import keras", "from keras"))
