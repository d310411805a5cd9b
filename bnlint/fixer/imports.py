"""Imports a fix made unused: taken out, so a fix never leaves one behind.

A fix that removes a layer (or replaces the last use of a name) can leave the
import of that layer's class unused. Only imports that were used before the
fix and are unused after it are taken out: an import the author left unused
is theirs. Names are counted over the whole module, so a name imported in one
function and used in another counts as used; a string equal to the name
(``__all__ = ["Dropout"]``) counts as a use too. Comments on a removed import
stay in the file.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import libcst as cst

from bnlint.fixer.commas import Entry, rebuild


class _Uses(cst.CSTVisitor):
    """How many times each name is read (not bound by an import, not an attribute or keyword name)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # ``a.b``: ``a`` is read, ``b`` is an attribute name
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # ``f(axis=a)``: ``axis`` is a keyword name
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.counts[node.value] += 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            self.counts[value] += 1


def uses(module: cst.Module) -> Counter[str]:
    visitor = _Uses()
    module.visit(visitor)
    return visitor.counts


def drop_unused_imports(before: cst.Module, after: cst.Module) -> cst.Module:
    """``after`` without the imported names that ``before`` read and ``after`` no longer does."""
    if after is before:
        return after
    used_before, used_after = uses(before), uses(after)
    gone = {name for name, count in used_before.items() if count and not used_after.get(name)}
    if not gone:
        return after
    return after.visit(_DropImports(gone))


def _bound(alias: cst.ImportAlias, plain_import: bool) -> str:
    """The name an import alias binds: its ``as`` name, else the name (the root package for ``import a.b``)."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    name = alias.name
    if plain_import:
        while isinstance(name, cst.Attribute):
            name = name.value
    return name.value if isinstance(name, cst.Name) else alias.evaluated_name


class _DropImports(cst.CSTTransformer):
    """Takes the gone names out of every import statement; a statement left with no name goes, its comments stay."""

    def __init__(self, gone: set[str]) -> None:
        super().__init__()
        self.gone = gone

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> Any:
        body, carried = self._body(updated.body)
        if not body:
            return updated  # a block of nothing but those imports would be empty: it keeps them
        return updated.with_changes(body=body, footer=[*carried, *updated.footer])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> Any:
        body, carried = self._body(updated.body)
        return updated.with_changes(body=body, footer=[*carried, *updated.footer])

    def _body(self, statements: Any) -> tuple[list[Any], list[cst.EmptyLine]]:
        kept: list[Any] = []
        carried: list[cst.EmptyLine] = []
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, (cst.Import, cst.ImportFrom))
                                                                 for s in stmt.body):
                pruned = self._statement(stmt)
                if pruned is None:
                    carried.extend(_lines(stmt))
                    continue
                stmt = pruned
            if carried:
                stmt = stmt.with_changes(leading_lines=[*carried, *stmt.leading_lines])
                carried = []
            kept.append(stmt)
        return kept, carried

    def _statement(self, stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine | None:
        """``stmt`` with its gone names taken out; None when nothing is left of it."""
        items = []
        for small in stmt.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                small = self._kept(small)
            if small is not None:
                items.append(small)
        if len(items) == len(stmt.body) and all(a is b for a, b in zip(items, stmt.body)):
            return stmt
        if not items:
            return None
        if len(items) < len(stmt.body):
            items[-1] = items[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return stmt.with_changes(body=items)

    def _kept(self, small: Any) -> Any:
        plain_import = isinstance(small, cst.Import)
        if not plain_import and (isinstance(small.names, cst.ImportStar) or (
                isinstance(small.module, cst.Name) and small.module.value == "__future__")):
            return small
        entries = [Entry(alias, i) for i, alias in enumerate(small.names) if _bound(alias, plain_import) not in self.gone]
        if len(entries) == len(small.names):
            return small
        if not entries:
            return None
        lpar = getattr(small, "lpar", None)
        opening = lpar.whitespace_after if lpar else cst.SimpleWhitespace("")
        return small.with_changes(names=rebuild(small.names, entries, opening, has_arg_ws=False))


def _lines(stmt: cst.SimpleStatementLine) -> list[cst.EmptyLine]:
    """A removed statement's blank and comment lines, and its trailing comment as a line of its own."""
    lines = list(stmt.leading_lines)
    if stmt.trailing_whitespace.comment is not None:
        lines.append(cst.EmptyLine(comment=stmt.trailing_whitespace.comment))
    return lines
