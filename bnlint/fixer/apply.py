"""One LibCST transformer that performs every planned change of a pass.

Changes are keyed by the original nodes (the ones the linter saw), never by
position, so edits nested in one another compose: a keyword set on a call and
a statement inserted after the statement holding it both land.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from bnlint.fixer.commas import Entry, lines_before_new_first, rebuild
from bnlint.fixer.imports import drop_unused_imports
from bnlint.fixer.plan import Changes


class ApplyChanges(cst.CSTTransformer):
    def __init__(self, changes: Changes, module: cst.Module) -> None:
        super().__init__()
        self.changes = changes
        self.module = module
        self.positional = changes.positional
        self.last_import = _last_import(module)

    def on_leave(self, original: Any, updated: Any) -> Any:
        key = id(original)
        if key in self.changes.replace:
            return self.changes.replace[key]
        if isinstance(original, cst.Call) and key in self.changes.keywords:
            updated = self._edit_call(original, updated)
        elif isinstance(original, cst.ImportFrom) and key in self.changes.import_names:
            updated = _extend_import(original, updated, self.changes.import_names[key])
        elif isinstance(original, (cst.List, cst.Tuple)) and any(
                id(e) in self.changes.after or id(e) in self.changes.remove for e in original.elements):
            updated = self._edit_list(original, updated)
        elif isinstance(original, (cst.Module, cst.IndentedBlock)):
            updated = self._edit_body(original, updated)
        if isinstance(original, cst.Module):
            updated = drop_unused_imports(original, updated)
        return updated

    # -------------------------------------------------------------- calls

    def _edit_call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        entries = [Entry(arg, i) for i, arg in enumerate(updated.args)]
        equal = next((a.equal for a in original.args if a.keyword is not None), None)
        for op, keyword, value in self.changes.keywords[id(original)]:
            where = next((j for j, e in enumerate(entries) if e.node.keyword is not None
                          and e.node.keyword.value == keyword), None)
            if where is None:
                index = self.positional.get(id(original), {}).get(keyword)
                plain = [j for j, e in enumerate(entries) if e.node.keyword is None and e.node.star == ""]
                # A positional argument is replaced in place; it is removed only when it is the last one.
                if index is not None and index < len(plain) and (op == "set" or index == len(plain) - 1):
                    where = plain[index]
            if op == "remove":
                if where is not None:
                    entries.pop(where)
            elif where is not None:
                entries[where] = Entry(entries[where].node.with_changes(value=value), entries[where].index)
            else:
                arg = cst.Arg(value=value, keyword=cst.Name(keyword),
                              equal=equal if equal is not None else cst.AssignEqual(
                                  whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
                entries.append(Entry(arg, None))
        # An argument whose trailing comment moved with it (a split-out activation) leaves no orphan comment.
        originals = [_without_comment(a) if id(a) in self.changes.moved_comments else a for a in original.args]
        args = rebuild(originals, entries, original.whitespace_before_args, has_arg_ws=True)
        opening = lines_before_new_first(originals, entries, updated.whitespace_before_args)
        return updated.with_changes(args=args, whitespace_before_args=opening)

    # -------------------------------------------------------------- lists

    def _edit_list(self, original: Any, updated: Any) -> Any:
        entries: list[Entry] = []
        index_of = {id(e): i for i, e in enumerate(original.elements)}
        for i, (old, new) in enumerate(zip(original.elements, updated.elements)):
            if id(old) not in self.changes.remove:
                entries.append(Entry(new, i))
            for added in self.changes.after.get(id(old), ()):
                entries.append(Entry(added, index_of.get(id(added))))
        opening = original.lbracket.whitespace_after if isinstance(original, cst.List) else (
            original.lpar[0].whitespace_after if original.lpar else cst.SimpleWhitespace(""))
        updated = updated.with_changes(elements=rebuild(original.elements, entries, opening, has_arg_ws=False))
        if isinstance(updated, cst.List):
            opening = lines_before_new_first(original.elements, entries, updated.lbracket.whitespace_after)
            updated = updated.with_changes(lbracket=updated.lbracket.with_changes(whitespace_after=opening))
        return updated

    # -------------------------------------------------------------- statements

    def _edit_body(self, original: Any, updated: Any) -> Any:
        body: list[Any] = []
        carried: list[cst.EmptyLine] = []
        touched = False
        for old, new in zip(original.body, updated.body):
            if id(old) in self.changes.deleted:
                # Gone for good: its blank lines, comment lines and trailing comment stay in the file.
                carried.extend(new.leading_lines)
                trailing = getattr(new, "trailing_whitespace", None)
                if trailing is not None and trailing.comment is not None:
                    carried.append(cst.EmptyLine(comment=trailing.comment))
                touched = True
                continue
            if id(old) in self.changes.remove:
                # Blank lines above it stay where they were; its comment lines move with it.
                carried.extend(line for line in new.leading_lines if line.comment is None)
                touched = True
                continue
            if carried:
                new = new.with_changes(leading_lines=[*carried, *new.leading_lines])
                carried = []
            body.append(new)
            added = list(self.changes.after.get(id(old), ()))
            if old is self.last_import and isinstance(original, cst.Module):
                added = [cst.parse_statement(code + "\n", config=self.module.config_for_parsing)
                         for code in self.changes.imports] + added
            if added:
                touched = True
                body.extend(added)
        if isinstance(original, cst.Module) and self.last_import is None and self.changes.imports:
            imports = [cst.parse_statement(code + "\n", config=self.module.config_for_parsing)
                       for code in self.changes.imports]
            start = 1 if body and _is_docstring(body[0]) else 0
            body[start:start] = imports
            touched = True
        if not touched:
            return updated
        result = updated.with_changes(body=body)
        if carried:
            result = result.with_changes(footer=[*carried, *result.footer])
        return result


def _extend_import(original: cst.ImportFrom, updated: cst.ImportFrom, names: list[str]) -> cst.ImportFrom:
    """``from x.layers import A, C`` with ``B`` added: in order when the names are sorted, else at the end."""
    entries = [Entry(alias, i) for i, alias in enumerate(updated.names)]
    spelled = [_alias_name(alias) for alias in original.names]
    keep_sorted = spelled == sorted(spelled)
    for name in names:
        if name in spelled:
            continue
        new = Entry(cst.ImportAlias(cst.Name(name)), None)
        where = len(entries)
        if keep_sorted:
            where = next((j for j, e in enumerate(entries) if _alias_name(e.node) > name), len(entries))
        entries.insert(where, new)
        spelled.append(name)
    opening = original.lpar.whitespace_after if original.lpar else cst.SimpleWhitespace("")
    return updated.with_changes(names=rebuild(original.names, entries, opening, has_arg_ws=False))


def _alias_name(alias: cst.ImportAlias) -> str:
    return alias.evaluated_name


def _without_comment(arg: cst.Arg) -> cst.Arg:
    """``arg`` without the comment that ends its line."""
    def bare(ws: Any) -> Any:
        if isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None:
            return ws.with_changes(first_line=cst.TrailingWhitespace(newline=ws.first_line.newline))
        return ws
    if isinstance(arg.comma, cst.Comma):
        return arg.with_changes(comma=arg.comma.with_changes(whitespace_after=bare(arg.comma.whitespace_after)))
    return arg.with_changes(whitespace_after_arg=bare(arg.whitespace_after_arg))


def _last_import(module: cst.Module) -> cst.CSTNode | None:
    last = None
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            last = stmt
        elif not (isinstance(stmt, cst.SimpleStatementLine) and _is_docstring(stmt)) and last is not None:
            break
    return last


def _is_docstring(stmt: Any) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
