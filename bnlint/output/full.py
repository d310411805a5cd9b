"""Text output with context: each finding's line, then the source line and a caret under the column."""
from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic
from bnlint.output import SEVERITY_COLOR, RenderContext, paint
from bnlint.output import text as text_output


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    color = context.color if context else False
    unsafe = context.unsafe_fixes if context else False
    sources: dict[str, list[str] | None] = {}
    blocks = []
    for d in diagnostics:
        if d.path not in sources:
            sources[d.path] = _read_lines(d.path)
        blocks.append(_block(d, sources[d.path], color, unsafe))
    blocks.append(text_output.summary(diagnostics, unsafe) + "\n")
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
    gutter = str(d.line)
    pad = " " * len(gutter)
    caret = paint("^" * width, SEVERITY_COLOR[d.severity] + "+bold", color)
    return (f"{head}{pad} {paint('|', 'cyan', color)}\n"
            f"{paint(gutter, 'cyan', color)} {paint('|', 'cyan', color)} {source}\n"
            f"{pad} {paint('|', 'cyan', color)} {indent}{caret}\n")


def _read_lines(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace").splitlines()
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace").splitlines()
