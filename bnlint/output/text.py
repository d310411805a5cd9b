"""``path:line:col: CODE message``, the format editors and terminals understand."""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic
from bnlint.output import SEVERITY_COLOR, RenderContext, paint


def line(d: Diagnostic, color: bool = False) -> str:
    where = f"{paint(d.path, 'bold', color)}:{d.line}:{d.column}:"
    return f"{where} {paint(d.code, SEVERITY_COLOR[d.severity] + '+bold', color)} {d.message}"


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    color = context.color if context else False
    lines = [line(d, color) for d in diagnostics]
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return "All checks passed!"
    count = len(diagnostics)
    return f"Found {count} problem{'s' if count != 1 else ''}."
