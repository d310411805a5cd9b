"""Text output with context: each finding's line, the source lines around it with a caret under the column,
and, for a finding with a fix, a ``help:`` line with the fix's title and the lines it changes."""
from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

from bnlint import notebook
from bnlint.diagnostics import Applicability, Diagnostic
from bnlint.fix_preview import REPLACEMENT, LineReplacement
from bnlint.output import SEVERITY_COLOR, RenderContext, paint
from bnlint.output import text as text_output

CONTEXT_LINES = 2  # source lines shown above and below a finding


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    context = context or RenderContext()
    color, unsafe = context.color, context.unsafe_fixes
    sources: dict[tuple[str, int], list[str] | None] = {}
    blocks = []
    for d in diagnostics:
        key = (d.path, d.extra.get("cell", 0))
        if key not in sources:
            sources[key] = _source_lines(d, context)
        blocks.append(_block(d, sources[key], color, unsafe) + _help(d, color))
    blocks.append(text_output.summary(diagnostics, context) + "\n")
    return "\n".join(blocks)


def _block(d: Diagnostic, lines: list[str] | None, color: bool, unsafe_fixes: bool) -> str:
    head = text_output.line(d, color, unsafe_fixes) + "\n"
    if lines is None or not 1 <= d.line <= len(lines):
        return head
    source = lines[d.line - 1].rstrip("\r\n")
    start = max(d.column - 1, 0)
    end = d.end_column - 1 if d.end_line == d.line else len(source)
    width = max(min(end, len(source)) - start, 1)
    # Keep tabs in the indent so the caret lands under the column whatever the tab width.
    indent = "".join(ch if ch == "\t" else " " for ch in source[:start])
    first, last = max(d.line - CONTEXT_LINES, 1), min(d.line + CONTEXT_LINES, len(lines))
    width_of_gutter = len(str(last))
    pad = " " * width_of_gutter
    bar = paint("|", "cyan", color)
    caret = paint("^" * width, SEVERITY_COLOR[d.severity] + "+bold", color)
    shown = []
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r\n")
        shown.append(f"{paint(str(number).rjust(width_of_gutter), 'cyan', color)} {bar} {text}".rstrip() + "\n")
        if number == d.line:
            shown.append(f"{pad} {bar} {indent}{caret}\n")
    return f"{head}{pad} {bar}\n" + "".join(shown)


def _help(d: Diagnostic, color: bool) -> str:
    """``help:`` with the fix's title, then the lines the fix changes as an inline diff."""
    if d.fix is None:
        return ""
    note = ""
    if "fix_refused" in d.extra:
        note = f" (not applied: {d.extra['fix_refused']})"
    elif d.fix.applicability is Applicability.UNSAFE:
        note = " (unsafe fix: applied with --fix --unsafe-fixes)"
    text = f"  {paint('help:', 'cyan+bold', color)} {d.fix.title}{note}\n"
    replacement = LineReplacement.from_extra(d.extra.get(REPLACEMENT))
    if replacement is None or "fix_refused" in d.extra:
        return text
    width = len(str(replacement.start + max(replacement.removed.count("\n"), replacement.text.count("\n"))))
    for offset, line in enumerate(replacement.removed.splitlines()):
        text += f"  {str(replacement.start + offset).rjust(width)} {paint('- ' + line, 'red', color)}\n"
    for offset, line in enumerate(replacement.text.splitlines()):
        text += f"  {str(replacement.start + offset).rjust(width)} {paint('+ ' + line, 'cyan', color)}\n"
    return text


def _source_lines(d: Diagnostic, context: RenderContext) -> list[str] | None:
    """The lines a finding's position counts in: the file's, standard input's, or its notebook cell's."""
    data = context.sources.get(d.path)
    if data is None:
        try:
            with open(d.path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
    if "cell" in d.extra:
        return notebook.cell_lines(data, d.extra["cell"])
    return _decode_lines(data)


def _decode_lines(data: bytes) -> list[str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace").splitlines()
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace").splitlines()
