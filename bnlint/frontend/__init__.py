"""LibCST front end: one LayerGraph per model a module defines.

Entries are the module body, each top-level function, each top-level class and
each class defined inside a function. An entry that another entry traced into,
outside any undecided branch (a helper block, a custom layer used by a model),
is not a model of its own: its layers already sit in its caller's graph, with
the caller's arguments bound. An entry that builds several models yields one
graph per model.
"""
from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from bnlint.frontend import keras_api
from bnlint.frontend.custom_layers import methods, scale_shape
from bnlint.frontend.interpreter import Frame, Interpreter
from bnlint.frontend.keras_release import old_keras_import
from bnlint.frontend.models import split_by_model
from bnlint.frontend.project import Project
from bnlint.frontend.syntax_walk import all_subnodes
from bnlint.frontend.training_facts import training_facts
from bnlint.frontend.unapplied import unapplied_norm_layers
from bnlint.frontend.values import LocalClass, Ref
from bnlint.frontend.weights_loading import loads_trained_weights
from bnlint.graph import DataFormat, LayerGraph, ModuleFacts


def build_graphs(module: cst.Module, data_format: DataFormat | None = None,
                 source: str | None = None, project: Project | None = None) -> list[LayerGraph]:
    """The graphs of every model in ``module``; ``source`` is its text, when the caller has it.

    With a ``project``, functions and classes imported from its other modules are traced.
    """
    interpreter = Interpreter(module, data_format, project)
    entries: list[tuple[int, list[LayerGraph], set[int]]] = []
    module_graph = interpreter.run_module()
    module_graph.entry = "<module>"
    entries.append((id(module), split_by_model(module_graph, interpreter.models), set(interpreter.inlined)))
    for stmt in _entry_statements(module):
        if isinstance(stmt, cst.FunctionDef):
            graph = interpreter.run_function(stmt, stmt.name.value)
            graph.entry = stmt.name.value
            entries.append((id(stmt), split_by_model(graph, interpreter.models), set(interpreter.inlined)))
            continue
        if interpreter.builtin_base(stmt) is not None or scale_shape(stmt) is not None:
            continue  # a Keras layer by inheritance, or a scale op: a layer, not a model
        found = methods(stmt)
        if {"__init__", "call", "build"} & found.keys():
            graph = interpreter.run_class(stmt)
            graph.entry = stmt.name.value
            if _is_model_class(interpreter, stmt):
                graph.model = stmt.name.value
            entries.append((id(stmt), split_by_model(graph, interpreter.models), set(interpreter.inlined)))
        for name, method in found.items():
            if name not in _MODEL_METHODS:  # a test or a ``get_model``: it may build models of its own
                graph = interpreter.run_method(stmt, method)
                graph.entry = f"{stmt.name.value}.{name}"
                # Building an instance of its own class (``cls(**config)``) leaves the class its entry.
                entries.append((id(method), split_by_model(graph, interpreter.models),
                                set(interpreter.inlined) - {id(stmt)}))
    traced_by_others = set()
    for entry_id, _, inlined in entries:
        traced_by_others |= inlined - {entry_id}
    graphs = [g for entry_id, parts, _ in entries if entry_id not in traced_by_others for g in parts if g.nodes]
    graphs += _paths_callers_do_not_take(entries, traced_by_others, graphs)
    def resolve(expr: cst.BaseExpression) -> object:
        return interpreter.eval(expr, Frame(interpreter.globals))

    facts = ModuleFacts(weights_check=lambda: loads_trained_weights(
        module, source if source is not None else module.code, resolve))
    facts.unapplied_layers = unapplied_norm_layers(interpreter, graphs, source if source is not None else module.code)
    facts.training = training_facts(module, interpreter.globals, source)
    facts.training.bn_builders = _builders_of_bn_models(module, entries)
    facts.old_keras_import = old_keras_import(module, source)
    if not graphs and (facts.unapplied_layers or facts.training):
        graphs = [LayerGraph("<module>")]  # rules about layer arguments and training code still run
    for graph in graphs:
        graph.facts = facts
    return graphs


def _paths_callers_do_not_take(entries: list[tuple[int, list[LayerGraph], set[int]]], traced_by_others: set[int],
                               graphs: list[LayerGraph]) -> list[LayerGraph]:
    """The own traces of helpers that callers traced, where they hold BN layers no kept graph holds.

    ``ResNet(stack_fn, preact, ...)`` is called in its module with ``preact=False`` only;
    its ``if preact: BatchNormalization(...)`` is reached by callers elsewhere, and by its
    own trace, where ``preact`` is open.
    """
    seen = {id(node.origin) for graph in graphs for node in graph.nodes if node.origin is not None}
    extra = []
    for entry_id, parts, _ in entries:
        if entry_id not in traced_by_others:
            continue
        for graph in parts:
            if any(node.op == "BatchNormalization" and node.origin is not None and id(node.origin) not in seen
                   for node in graph.nodes):
                graph.supplementary = True
                extra.append(graph)
                seen |= {id(node.origin) for node in graph.nodes if node.origin is not None}
    return extra


def _builders_of_bn_models(module: cst.Module, entries: list[tuple[int, list[LayerGraph], set[int]]]) -> frozenset[str]:
    """Top-level functions and classes whose own trace holds a BN layer, even where a caller's graph holds it now."""
    names = {id(stmt): stmt.name.value for stmt in module.body if isinstance(stmt, (cst.FunctionDef, cst.ClassDef))}
    return frozenset(names[entry_id] for entry_id, parts, _ in entries if entry_id in names and any(
        node.op == "BatchNormalization" for graph in parts for node in graph.nodes))


def _is_model_class(interpreter: Interpreter, cls: cst.ClassDef, depth: int = 0) -> bool:
    """``cls`` subclasses ``keras.Model`` (directly or through the module's own classes)."""
    for base in cls.bases:
        value = interpreter.eval(base.value, Frame(interpreter.globals))
        if isinstance(value, Ref):
            entry = keras_api.resolve(value.qualname)
            if entry is not None and entry.kind == "model":
                return True
        elif isinstance(value, LocalClass) and depth < 8 and _is_model_class(interpreter, value.node, depth + 1):
            return True
    return False


# The methods a class entry runs in order; every other method is an entry of its own.
_MODEL_METHODS = frozenset({"__init__", "build", "call", "__call__"})


def _entry_statements(module: cst.Module) -> Iterator[cst.FunctionDef | cst.ClassDef]:
    """Top-level functions and classes, then the classes defined inside functions."""
    nested: list[cst.ClassDef] = []
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            yield stmt
        if isinstance(stmt, cst.FunctionDef):
            nested.extend(_classes_in(stmt))
    yield from nested


def _classes_in(function: cst.FunctionDef) -> Iterator[cst.ClassDef]:
    """Classes defined in a function's body, at any depth of blocks and inner functions."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.ClassDef):
            yield node
            continue  # its methods' own classes are rare enough to leave out
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseExpression)):
            continue  # no class statement inside a simple statement
        stack.extend(reversed(list(all_subnodes(node))))
