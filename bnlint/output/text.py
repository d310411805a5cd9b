"""``path:line:col: CODE message``, the format editors and terminals understand."""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic


def render(diagnostics: Sequence[Diagnostic]) -> str:
    lines = [f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in diagnostics]
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return "All checks passed!"
    count = len(diagnostics)
    return f"Found {count} problem{'s' if count != 1 else ''}."
