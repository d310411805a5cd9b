"""What the fixer knows about one parsed file: parents, graph nodes by origin, names, spellings."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import libcst as cst

from bnlint.frontend.syntax_walk import all_subnodes, parents_of
from bnlint.graph import LayerGraph, LayerNode


class Refused(Exception):
    """A fix the fixer will not apply; the message says why."""


class Source:
    def __init__(self, module: cst.Module, graphs: list[LayerGraph]) -> None:
        self.module = module
        self.parents = parents_of(module)
        self.graphs = graphs
        self.by_origin: dict[int, list[tuple[LayerGraph, LayerNode]]] = {}
        for graph in graphs:
            for node in graph.nodes:
                if node.origin is not None and not node.implicit:
                    self.by_origin.setdefault(id(node.origin), []).append((graph, node))
        self.names = {n.value for n in _walk(module) if isinstance(n, cst.Name)}
        self.reserved: set[str] = set()
        self.reserved_strings: set[str] = set()  # layer names (``name="..."``) new code has taken
        self._strings: set[str] | None = None
        self.top_level_names = _top_level_bindings(module)
        self.imports = [s for s in module.body if _is_import(s)]
        # ``from keras.layers import *``: every Keras layer class is a bare name here.
        self.star_imports_layers = any(
            isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
            and small.module is not None and is_layers_module(self.code(small.module))
            for stmt in self.imports for small in stmt.body)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            current = self.parent(current)
        return current

    def block_of(self, stmt: cst.CSTNode) -> cst.CSTNode | None:
        parent = self.parent(stmt)
        return parent if isinstance(parent, (cst.Module, cst.IndentedBlock)) else None

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        current: cst.CSTNode | None = inner
        while current is not None:
            if current is outer:
                return True
            current = self.parent(current)
        return False

    def nodes_for(self, origin: Any) -> list[tuple[LayerGraph, LayerNode]]:
        return self.by_origin.get(id(origin), [])

    def strings(self) -> set[str]:
        """Every string literal's value in the file, and the layer names new code has taken."""
        if self._strings is None:
            self._strings = {n.evaluated_value for n in _walk(self.module)
                             if isinstance(n, cst.SimpleString) and isinstance(n.evaluated_value, str)}
        return self._strings | self.reserved_strings

    def fresh_name(self, base: str) -> str:
        name, n = base, 2
        while name in self.names or name in self.reserved:
            name, n = f"{base}{n}", n + 1
        self.reserved.add(name)
        return name


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(all_subnodes(current))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return _walk(node)


def is_layers_module(dotted: str) -> bool:
    """``keras.layers``, ``tensorflow.keras.layers``, ``tf_keras.layers`` and the like."""
    parts = dotted.split(".")
    return len(parts) >= 2 and parts[-1] == "layers" and parts[0] in ("keras", "tensorflow", "tf_keras", "tf")


def enclosing(src: Source, node: cst.CSTNode, kind: type) -> cst.CSTNode | None:
    """The nearest ``kind`` (FunctionDef, ClassDef) around ``node``."""
    current = src.parent(node)
    while current is not None and not isinstance(current, kind):
        current = src.parent(current)
    return current


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _top_level_bindings(module: cst.Module) -> dict[str, str]:
    """Names bound at the top level of the module -> 'import' or 'other'."""
    bound: dict[str, str] = {}
    statements: list[cst.CSTNode] = list(module.body)
    for stmt in list(statements):
        if isinstance(stmt, cst.Try):
            statements.extend(stmt.body.body)
            for handler in stmt.handlers:
                statements.extend(handler.body.body)
        elif isinstance(stmt, cst.If):
            statements.extend(stmt.body.body)
    for stmt in statements:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bound.setdefault(stmt.name.value, "other")
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.asname is not None:
                        bound[alias.asname.name.value] = "import"
                    else:
                        root = alias.name
                        while isinstance(root, cst.Attribute):
                            root = root.value
                        bound[root.value] = "import"
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    name = alias.asname.name if alias.asname is not None else alias.name
                    if isinstance(name, cst.Name):
                        bound[name.value] = "import"
            elif isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        bound.setdefault(target.target.value, "other")
    return bound


def root_name(expr: cst.CSTNode) -> str | None:
    """``a`` for ``a.b.c``; None for anything that is not a dotted name."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None
