"""LibCST front end: one LayerGraph per model a module defines.

Entries are the module body, each top-level function and each top-level class.
An entry that another entry traced into (a helper block, a custom layer used by
a model) is not a model of its own: its layers already sit in its caller's
graph, with the caller's arguments bound.
"""
from __future__ import annotations

import re

import libcst as cst

from bnlint.frontend.custom_layers import methods, scale_shape
from bnlint.frontend.interpreter import Interpreter
from bnlint.graph import DataFormat, LayerGraph, ModuleFacts

# Any of these in a file means it loads trained weights: fixes that change a
# parameter's shape or count would break those checkpoints.
_PRETRAINED = re.compile(
    r"load_weights\(|load_model\(|from_pretrained\(|from_preset\(|weights\s*=\s*(?!None\b)[\"'A-Za-z_]"
)


def module_facts(source: str) -> ModuleFacts:
    return ModuleFacts(loads_pretrained_weights=bool(_PRETRAINED.search(source)))


def build_graphs(module: cst.Module, facts: ModuleFacts | None = None,
                 data_format: DataFormat | None = None) -> list[LayerGraph]:
    interpreter = Interpreter(module, data_format)
    entries: list[tuple[int, LayerGraph, set[int]]] = []
    module_graph = interpreter.run_module()
    entries.append((id(module), module_graph, set(interpreter.inlined)))
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            graph = interpreter.run_function(stmt, stmt.name.value)
        elif isinstance(stmt, cst.ClassDef) and _traceable_class(interpreter, stmt):
            graph = interpreter.run_class(stmt)
        else:
            continue
        entries.append((id(stmt), graph, set(interpreter.inlined)))
    traced_by_others = set()
    for entry_id, _, inlined in entries:
        traced_by_others |= inlined - {entry_id}
    graphs = [g for entry_id, g, _ in entries if entry_id not in traced_by_others and g.nodes]
    for graph in graphs:
        graph.facts = facts or ModuleFacts()
    return graphs


def _traceable_class(interpreter: Interpreter, cls: cst.ClassDef) -> bool:
    """A class is a model of its own unless it is a Keras layer by inheritance or a scale op."""
    if interpreter.builtin_base(cls) is not None:
        return False
    return scale_shape(cls) is None and bool({"__init__", "call", "build"} & methods(cls).keys())
