"""``path:line:col: severity: CODE message``, the gcc/clang line that editors and terminals understand.

The severity word sits where gcc and clang put it, so vim's ``errorformat``
(``%f:%l:%c: %trror: %m``), Emacs ``compilation-mode`` and VS Code problem
matchers read each finding's severity with no bnlint-specific setup.
"""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.diagnostics import Applicability, Diagnostic, Severity
from bnlint.output import SEVERITY_COLOR, RenderContext, paint


def line(d: Diagnostic, color: bool = False, unsafe_fixes: bool = False) -> str:
    cell = f":cell {d.extra['cell']}" if "cell" in d.extra else ""  # a notebook's lines count per cell
    where = f"{paint(d.path, 'bold', color)}{cell}:{d.line}:{d.column}:"
    severity = paint(f"{d.severity.label}:", SEVERITY_COLOR[d.severity] + "+bold", color)
    mark = " [*]" if fixable(d, unsafe_fixes) else ""
    mark += dynamic_mark(d)
    return f"{where} {severity} {paint(d.code, 'bold', color)}{mark} {d.message}"


def dynamic_mark(d: Diagnostic) -> str:
    """``[confirmed]``, ``[refuted]`` or ``[not built: reason]`` after a --dynamic run judged the finding."""
    if d.dynamic == "not-built":
        return f" [not built: {d.extra.get('dynamic_reason', '')}]"
    return f" [{d.dynamic}]" if d.dynamic else ""


def fixable(d: Diagnostic, unsafe_fixes: bool) -> bool:
    """A fix exists, the fixer can carry it out, and the flags given would apply it."""
    if d.fix is None or "fix_refused" in d.extra:
        return False
    return d.fix.applicability is Applicability.SAFE or unsafe_fixes


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    context = context or RenderContext()
    lines = [line(d, context.color, context.unsafe_fixes) for d in diagnostics]
    lines.append(summary(diagnostics, context))
    return "\n".join(lines) + "\n"


def summary(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    """The last line: how many findings of each severity, what --fix did and can do, and why exit 0.

    ``Found 58 problems (6 warnings, 52 info). [*] 5 fixable with --fix.``; after a
    ``--fix`` that fixed something, ``Found 95 problems (60 fixed, 35 remaining:
    5 warnings, 30 info).``. When findings are shown but none reaches ``--fail-on``,
    a closing note says why the run still exits 0.
    """
    context = context or RenderContext()
    fixed = context.fixed or 0
    if not diagnostics and not fixed:
        return "All checks passed!"
    remaining = len(diagnostics)
    severities = severity_counts(diagnostics)
    if fixed:
        breakdown = f": {severities}" if severities else ""
        text = f"Found {_plural(fixed + remaining, 'problem')} ({fixed} fixed, {remaining} remaining{breakdown})."
    else:
        text = f"Found {_plural(remaining, 'problem')} ({severities})."
    parts = [text, fixable_note(diagnostics, context.unsafe_fixes), passing_note(diagnostics, context.fail_on)]
    return " ".join(part for part in parts if part)


def severity_counts(diagnostics: Sequence[Diagnostic]) -> str:
    """``1 error, 6 warnings, 52 info``: most severe first, only the severities present."""
    counts = [(severity, sum(d.severity is severity for d in diagnostics))
              for severity in sorted(Severity, reverse=True)]
    return ", ".join(_plural(n, severity.label) if severity is not Severity.INFO else f"{n} info"
                     for severity, n in counts if n)


def fixable_note(diagnostics: Sequence[Diagnostic], unsafe_fixes: bool) -> str:
    safe = sum(fixable(d, False) for d in diagnostics)
    unsafe = sum(fixable(d, True) for d in diagnostics) - safe
    if (unsafe_fixes or not safe) and unsafe:
        return f"[*] {safe + unsafe} fixable with --fix --unsafe-fixes."
    if unsafe:
        return f"[*] {safe} fixable with --fix ({unsafe} more with --unsafe-fixes)."
    if safe:
        return f"[*] {safe} fixable with --fix."
    return ""


def passing_note(diagnostics: Sequence[Diagnostic], fail_on: Severity | None) -> str:
    """Why a run that shows findings exits 0: every one is below ``--fail-on``."""
    if fail_on is None or not diagnostics or any(d.severity >= fail_on for d in diagnostics):
        return ""
    below = sorted({d.severity for d in diagnostics}, reverse=True)
    names = " and ".join(severity.label for severity in below)
    return f"({names} findings do not fail the run; --fail-on {below[-1].label} to change that)"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
