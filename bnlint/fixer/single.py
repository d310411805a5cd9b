"""One finding's fix on its own, as a replacement of whole lines.

``--fix`` applies every fix of a file together (``fix_source``); an editor's
code action, the ``help:`` diff of full output and SARIF's ``fixes[]`` show one
finding's fix alone. This plans that fix with the same planner, applies it with
the same transformer, checks that the result still parses, and reduces the
change to the smallest run of lines it replaces.
"""
from __future__ import annotations

from typing import Any

from bnlint import notebook
from bnlint.diagnostics import Diagnostic
from bnlint.fix_preview import REPLACEMENT, LineReplacement, line_replacement
from bnlint.fixer import _syntax_problem
from bnlint.fixer.apply import ApplyChanges
from bnlint.fixer.plan import plan_fix
from bnlint.fixer.source import Refused, Source


def fixed_text(syntax: tuple[Any, Any], diagnostic: Diagnostic, name: str = "<file>") -> bytes | None:
    """The module's text with ``diagnostic``'s fix alone applied; None when it cannot be applied."""
    if diagnostic.fix is None:
        return None
    module = syntax[0]
    try:
        changes = plan_fix(Source(*syntax), diagnostic.fix)
    except Refused:
        return None
    if changes.empty():
        return None
    new = module.visit(ApplyChanges(changes, module)).bytes
    if new == module.bytes or _syntax_problem(new, name) is not None:
        return None
    return new


def annotate_replacements(result: Any) -> None:
    """Store each fixable finding's own fix in ``extra`` as a LineReplacement (where the tree is at hand)."""
    if result.syntax is None:
        return
    module = result.syntax[0]
    encoding = module.encoding
    before = module.bytes.decode(encoding, errors="replace")
    for diagnostic in result.diagnostics:
        if diagnostic.fix is None or "fix_refused" in diagnostic.extra:
            continue
        try:
            new = fixed_text(result.syntax, diagnostic, result.path)
        except Exception:  # noqa: BLE001, S112 - a preview is a nicety; the finding stands without it
            continue
        if new is None:
            continue
        change = line_replacement(before, new.decode(encoding, errors="replace"))
        if "cell" in diagnostic.extra:
            change = _within_cell(change, diagnostic.extra)
        if change is not None:
            diagnostic.extra[REPLACEMENT] = change.to_extra()


def _within_cell(change: LineReplacement, extra: dict[str, Any]) -> LineReplacement | None:
    """A notebook finding's change in its cell's own line numbers; None when it reaches past the cell."""
    start, end = extra.get(notebook.CELL_START), extra.get(notebook.CELL_END)
    if start is None or end is None or not start <= change.start <= change.end <= end:
        return None
    return LineReplacement(change.start - start + 1, change.end - start + 1, change.text, change.removed)
