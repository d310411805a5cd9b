"""What a module's imports say about the Keras release it is written for.

Keras 2.9 moved its layer modules into packages (``keras.layers.recurrent`` became
``keras.layers.rnn``, ``keras.layers.embeddings`` ``keras.layers.core``), and TensorFlow
kept an older copy of Keras of its own under ``tensorflow.python.keras``; an import from
one of those paths shows the code runs on a Keras before 2.9. No other import pins a
release: ``keras`` may be 2 or 3, ``tensorflow.keras`` any Keras of TensorFlow 2,
``tf_keras`` any Keras 2 from 2.14 on.
"""
from __future__ import annotations

import re

import libcst as cst

from bnlint.frontend.custom_layers import dotted_name
from bnlint.frontend.syntax_walk import subnodes

# Modules that only Keras releases before 2.9 have.
_BEFORE_2_9 = frozenset({
    "keras.layers.recurrent", "keras.layers.embeddings", "keras.layers.cudnn_recurrent",
    "keras.layers.convolutional_recurrent", "keras.layers.wrappers", "keras.layers.merge",
    "keras.layers.advanced_activations", "keras.layers.local", "keras.engine.topology",
})
# Copies of Keras that TensorFlow itself carried (TensorFlow 1's contrib, TensorFlow 2's in-tree copy).
_OLD_COPIES = ("tensorflow.python.keras", "tensorflow.contrib.keras")
# ``keras.layers.normalization`` was a module holding the BN class up to Keras 2.5; from 2.6 on it
# is a package whose ``__init__`` exports nothing.
_OLD_CLASS_HOMES = {"keras.layers.normalization": frozenset({"BatchNormalization"})}


# Text that every such import contains: a module without any is not walked.
_HINT = re.compile(r"keras\.engine\.topology|tensorflow\.python\.keras|tensorflow\.contrib\.keras|"
                   r"keras\.layers(?:\.|\s+import\b[^\n]*\b)(?:recurrent|embeddings|cudnn_recurrent|"
                   r"convolutional_recurrent|wrappers|merge|advanced_activations|local|normalization)\b")


def old_keras_import(module: cst.Module, source: str | None = None) -> str:
    """The first import path in ``module`` that only a Keras before 2.9 has, or ""."""
    if source is not None and not _HINT.search(source):
        return ""
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Import):
            for alias in node.names:
                if _old(dotted_name(alias.name) or "", ()):
                    return dotted_name(alias.name) or ""
        elif isinstance(node, cst.ImportFrom) and node.module is not None and not node.relative:
            path = dotted_name(node.module) or ""
            names = () if isinstance(node.names, cst.ImportStar) else tuple(
                dotted_name(alias.name) or "" for alias in node.names)
            if _old(path, names):
                return path
        elif not isinstance(node, cst.BaseExpression):  # imports are statements: expressions hold none
            stack.extend(reversed(list(subnodes(node))))
    return ""


def _old(path: str, names: tuple[str, ...]) -> bool:
    if path in _BEFORE_2_9 or any(path.startswith(f"{old}.") for old in _BEFORE_2_9):
        return True
    if path in _OLD_COPIES or path.startswith(tuple(f"{copy}." for copy in _OLD_COPIES)):
        return True
    if any(f"{path}.{name}" in _BEFORE_2_9 for name in names):
        return True  # ``from keras.layers import recurrent``
    return bool(set(names) & _OLD_CLASS_HOMES.get(path, frozenset()))
