"""``path:line:col: CODE message``, the format editors and terminals understand."""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.diagnostics import Applicability, Diagnostic
from bnlint.output import SEVERITY_COLOR, RenderContext, paint


def line(d: Diagnostic, color: bool = False, unsafe_fixes: bool = False) -> str:
    where = f"{paint(d.path, 'bold', color)}:{d.line}:{d.column}:"
    mark = " [*]" if fixable(d, unsafe_fixes) else ""
    return f"{where} {paint(d.code, SEVERITY_COLOR[d.severity] + '+bold', color)}{mark} {d.message}"


def fixable(d: Diagnostic, unsafe_fixes: bool) -> bool:
    """A fix exists, the fixer can carry it out, and the flags given would apply it."""
    if d.fix is None or "fix_refused" in d.extra:
        return False
    return d.fix.applicability is Applicability.SAFE or unsafe_fixes


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    color = context.color if context else False
    unsafe = context.unsafe_fixes if context else False
    lines = [line(d, color, unsafe) for d in diagnostics]
    lines.append(summary(diagnostics, unsafe))
    return "\n".join(lines) + "\n"


def summary(diagnostics: Sequence[Diagnostic], unsafe_fixes: bool = False) -> str:
    if not diagnostics:
        return "All checks passed!"
    count = len(diagnostics)
    text = f"Found {count} problem{'s' if count != 1 else ''}."
    safe = sum(fixable(d, False) for d in diagnostics)
    unsafe = sum(fixable(d, True) for d in diagnostics) - safe
    if unsafe_fixes and safe + unsafe:
        return f"{text} [*] {safe + unsafe} fixable with --fix --unsafe-fixes."
    if unsafe:
        return f"{text} [*] {safe} fixable with --fix ({unsafe} more with --unsafe-fixes)."
    if safe:
        return f"{text} [*] {safe} fixable with --fix."
    return text
