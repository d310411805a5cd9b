"""``# noqa: CODE`` comments written into the source: ``--add-noqa`` and the editor's code action.

A comment goes at the end of the first line of each finding, which is the line
the suppression check reads. An existing ``# noqa: ...`` on that line gets the
new codes added; a bare ``# noqa`` already suppresses everything. A line that
ends inside a multi-line string or with a backslash continuation cannot hold a
comment and is left alone.
"""
from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from bnlint import api, fixer, notebook
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic

_NOQA = re.compile(r"#\s*noqa(?P<colon>:\s*(?P<codes>[A-Za-z]+[0-9]+(?:\s*,?\s*[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)


def codes_by_line(diagnostics: Iterable[Diagnostic]) -> dict[int, set[str]]:
    """The rule codes to suppress on each line (file problems such as E999 cannot be suppressed)."""
    wanted: dict[int, set[str]] = {}
    for d in diagnostics:
        if d.code.startswith("BN"):
            wanted.setdefault(d.line, set()).add(d.code)
    return wanted


def add_noqa(text: str, wanted: Mapping[int, set[str]]) -> tuple[str, int]:
    """``text`` with ``# noqa`` comments for ``wanted`` (line → codes), and how many lines changed."""
    lines = text.splitlines(keepends=True)
    blocked = _lines_that_cannot_end_in_a_comment(text)
    changed = 0
    for number, codes in sorted(wanted.items()):
        if not 1 <= number <= len(lines) or number in blocked:
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if body.rstrip().endswith("\\"):
            continue
        new = _with_codes(body, codes)
        if new != body:
            lines[number - 1] = new + ending
            changed += 1
    return "".join(lines), changed


def _with_codes(body: str, codes: set[str]) -> str:
    match = _comment_noqa(body)
    if match is None:
        return f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    if not match.group("colon"):
        return body  # a bare directive already suppresses every code
    present = [c.upper() for c in re.split(r"[\s,]+", match.group("codes")) if c]
    missing = sorted(codes - set(present))
    if not missing:
        return body
    merged = ", ".join([*present, *missing])
    return body[:match.start("codes")] + merged + body[match.end("codes"):]


def _comment_noqa(body: str) -> re.Match[str] | None:
    """The ``# noqa`` directive in the line's comment, if it has one (not inside a string)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(body + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        tokens = []
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = _NOQA.search(token.string)
            if match:
                offset = token.start[1]
                return _NOQA.search(body, offset)
    return None


def _lines_that_cannot_end_in_a_comment(text: str) -> set[int]:
    blocked: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            is_string = token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
            if is_string and token.end[0] > token.start[0]:
                blocked.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return blocked


def add_noqa_to_file(path: Path, diagnostics: list[Diagnostic]) -> int:
    """Write ``# noqa`` comments for ``diagnostics`` into ``path``; the number of lines changed."""
    data = path.read_bytes()
    if notebook.is_notebook(str(path)):
        book = notebook.Notebook.parse(data)
        cells = {cell.number: cell for cell in book.cells}
        wanted: dict[int, set[str]] = {}
        for line, codes in _cell_lines(diagnostics, cells):
            wanted.setdefault(line, set()).update(codes)
        text, changed = add_noqa(book.python.decode("utf-8"), wanted)
        new = book.with_python(text.encode("utf-8")) if changed else data
    else:
        encoding = _encoding(data)
        text, changed = add_noqa(data.decode(encoding), codes_by_line(diagnostics))
        new = text.encode(encoding)
    if changed:
        fixer.write_atomic(path, new, fixer.digest(data))
    return changed


def _cell_lines(diagnostics: list[Diagnostic], cells: Mapping[int, notebook.CodeCell]) -> Iterator[tuple[int, set[str]]]:
    """Each notebook finding's line in the joined Python of the code cells."""
    for d in diagnostics:
        cell = cells.get(d.extra.get("cell", 0))
        if cell is not None and d.code.startswith("BN"):
            yield cell.first_line + d.line - 1, {d.code}


def _encoding(data: bytes) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except (SyntaxError, LookupError):
        return "utf-8"


def add_noqa_paths(paths: list[str], settings: Settings) -> tuple[int, int]:
    """``--add-noqa``: suppress every current finding in place. Returns (comments written, files changed)."""
    comments = files = 0
    for result in api.lint_paths(paths, settings):
        if not codes_by_line(result.diagnostics):
            continue
        try:
            written = add_noqa_to_file(Path(result.path), result.diagnostics)
        except (OSError, fixer.FileChanged, notebook.NotebookError, notebook.CellsMoved):
            continue
        comments += written
        files += bool(written)
    return comments, files
