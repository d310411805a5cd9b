"""Jupyter notebooks as Python: code cells joined in order, positions mapped back to cells.

The engine lints a notebook as one Python module made of its code cells, so a
model built over several cells is one model. IPython syntax that is not Python
(line magics ``%time``, cell magics ``%%bash``, shell escapes ``!pip``, help
``obj?``) is masked by a ``pass`` placeholder at the same indentation, which
keeps every line where it was and every block well-formed. A boundary comment
line separates the cells, so that after a fix each cell's new text can be told
apart again.

Writing a fixed notebook back never goes through a JSON serializer: only the
``source`` value of each changed cell is replaced in the original text, in the
notebook's own layout, so outputs, metadata, key order, indentation and
escapes stay byte for byte as they were.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bnlint.diagnostics import Diagnostic

SUFFIX = ".ipynb"
# Where a located finding's cell lies in the joined Python (``extra`` keys; its first line, and the line after it).
CELL_START, CELL_END = "cell_start", "cell_end"
CELL_BOUNDARY = "# bnlint: notebook cell boundary"
MAGIC_PLACEHOLDER = "pass  # bnlint: notebook magic"
# Cell magics whose body is still Python; any other (``%%bash``, ``%%writefile``) hides the whole cell.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "tensorflow_version"})
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")
_LINE_MENTION = re.compile(r"\(line (\d+)\)")  # how the engine names a related layer's place in a message
_CAPTURE = re.compile(r"^\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[!%]")  # ``files = !ls``, ``t = %timeit -o f()``


class NotebookError(Exception):
    """The file is not a notebook bnlint can read (its message says why)."""


class CellsMoved(Exception):
    """A fix moved code across a cell boundary or touched a masked line: the notebook cannot take it."""


def is_notebook(path: str) -> bool:
    return path.endswith(SUFFIX)


@dataclass(frozen=True)
class CodeCell:
    index: int  # 0-based position in the notebook's ``cells`` list
    text: str  # the cell's source as Jupyter stores it
    first_line: int  # the line of the joined Python where the cell's first line sits
    line_count: int
    masked: tuple[str, ...]  # the original lines hidden behind placeholders, in order

    @property
    def number(self) -> int:
        """The cell's 1-based position among all cells, as findings name it (``cell 3``)."""
        return self.index + 1


@dataclass(frozen=True)
class Notebook:
    raw: str  # the notebook's JSON text, untouched
    cells: tuple[CodeCell, ...]
    python: bytes  # the code cells joined, magics masked
    bom: bool = False  # the file began with a UTF-8 byte order mark (kept on write-back)

    @classmethod
    def parse(cls, data: bytes) -> Notebook:
        try:
            raw = data.decode("utf-8-sig")
            document = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise NotebookError(f"not a readable notebook (invalid JSON: {error})") from None
        cells = document.get("cells") if isinstance(document, dict) else None
        if not isinstance(cells, list):
            raise NotebookError("not a notebook in nbformat 4 (no 'cells' list)")
        bom = data.startswith(b"\xef\xbb\xbf")
        if _language(document) not in (None, "python"):
            return cls(raw, (), b"", bom)  # an R or Julia notebook has no Python to lint
        lines: list[str] = []
        code_cells: list[CodeCell] = []
        for index, cell in enumerate(cells):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            text = _source_text(cell.get("source", ""))
            if code_cells:
                lines.append(CELL_BOUNDARY)
            python_lines, masked = _mask(text)
            code_cells.append(CodeCell(index, text, len(lines) + 1, len(python_lines), tuple(masked)))
            lines.extend(python_lines)
        python = "\n".join(lines) + "\n" if lines else ""
        return cls(raw, tuple(code_cells), python.encode("utf-8"), bom)

    def cell_at(self, line: int) -> CodeCell | None:
        """The code cell that holds ``line`` of the joined Python (None on a boundary line)."""
        for cell in self.cells:
            if cell.first_line <= line < cell.first_line + max(cell.line_count, 1):
                return cell
        return None

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """``diagnostic`` (on the joined Python) placed in its cell: lines count from the cell's first."""
        cell = self.cell_at(diagnostic.line) or _nearest(self.cells, diagnostic.line)
        if cell is None:
            return diagnostic
        line = diagnostic.line - cell.first_line + 1
        end_line = diagnostic.end_line - cell.first_line + 1
        end_column = diagnostic.end_column
        if end_line > max(cell.line_count, 1) or end_line < line:  # a span that runs into the next cell
            end_line, end_column = line, diagnostic.column
        # A related place in another cell has no way to say so: it is left out rather than misplaced.
        related = [place._replace(line=place.line - cell.first_line + 1, end_line=place.end_line - cell.first_line + 1)
                   for place in diagnostic.related if self.cell_at(place.line) is cell]
        return replace(diagnostic, line=max(line, 1), end_line=max(end_line, 1), end_column=end_column,
                       message=_LINE_MENTION.sub(self._cell_line, diagnostic.message),
                       extra={**diagnostic.extra, "cell": cell.number, CELL_START: cell.first_line,
                              CELL_END: cell.first_line + cell.line_count}, related=related)

    def _cell_line(self, mention: re.Match[str]) -> str:
        """A message's ``(line 41)`` of the joined Python as ``(cell 3, line 5)``."""
        line = int(mention.group(1))
        cell = self.cell_at(line)
        return mention.group(0) if cell is None else f"(cell {cell.number}, line {line - cell.first_line + 1})"

    def with_python(self, fixed: bytes) -> bytes:
        """The notebook's JSON text with each code cell's source replaced by its part of ``fixed``.

        Cells whose text did not change keep their bytes; so does everything that is not a source.
        """
        parts = fixed.decode("utf-8").split("\n" + CELL_BOUNDARY + "\n")
        if len(parts) != len(self.cells):
            raise CellsMoved("a fix moved code across notebook cells; the notebook was left unchanged")
        spans = _source_spans(self.raw)
        out = self.raw
        for cell, part in sorted(zip(self.cells, parts), key=lambda pair: -pair[0].index):
            text = _unmask(part[:-1] if part.endswith("\n") and cell is self.cells[-1] else part, cell)
            if text == cell.text:
                continue
            start, end = spans[cell.index]
            out = out[:start] + _dump_source(out[start:end], text) + out[end:]
        return (("\ufeff" if self.bom else "") + out).encode("utf-8")


def cell_lines(data: bytes, cell_number: int) -> list[str] | None:
    """The source lines of the notebook's cell ``cell_number`` (1-based), for context in output."""
    try:
        cells = json.loads(data.decode("utf-8-sig")).get("cells", [])
        return _source_text(cells[cell_number - 1].get("source", "")).splitlines()
    except (ValueError, AttributeError, IndexError, TypeError, RecursionError):
        return None


def _language(document: dict) -> str | None:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return None
    info = metadata.get("language_info")
    name = info.get("name") if isinstance(info, dict) else None
    if name is None:
        kernel = metadata.get("kernelspec")
        name = kernel.get("language") if isinstance(kernel, dict) else None
    return name.lower() if isinstance(name, str) else None


def _source_text(source: object) -> str:
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _mask(text: str) -> tuple[list[str], list[str]]:
    """The cell's lines with IPython-only lines replaced by placeholders, and the lines replaced."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()  # the cell's final newline; joining adds one back
    masked: list[str] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    hide_all = False
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(None, 1)
        hide_all = not magic or magic[0] not in PYTHON_CELL_MAGICS
    out = []
    continued = False
    for line in lines:
        stripped = line.lstrip()
        ipython = (hide_all or continued or stripped.startswith(("%", "!"))
                   or bool(_HELP.match(line) or _CAPTURE.match(line)))
        if ipython and stripped:
            continued = line.rstrip().endswith("\\") and not hide_all
            indent = line[:len(line) - len(stripped)]
            masked.append(line)
            out.append(indent + MAGIC_PLACEHOLDER)
        else:
            continued = False
            out.append(line)
    return out, masked


def _unmask(part: str, cell: CodeCell) -> str:
    """The cell text for ``part`` of the fixed Python, with its masked lines put back."""
    lines = part.split("\n")
    originals = iter(cell.masked)
    restored = []
    for line in lines:
        if line.lstrip() == MAGIC_PLACEHOLDER:
            original = next(originals, None)
            if original is None:
                raise CellsMoved("a fix moved a masked IPython line; the notebook was left unchanged")
            restored.append(original)
        else:
            restored.append(line)
    if next(originals, None) is not None:
        raise CellsMoved("a fix removed a masked IPython line; the notebook was left unchanged")
    # ``_mask`` dropped the empty string after the cell's final newline; put that newline back.
    return "\n".join(restored) + ("\n" if cell.text.endswith("\n") else "")


def _dump_source(original: str, text: str) -> str:
    """``text`` as a JSON value in the layout of ``original``: a string, or a list of lines."""
    ascii_only = "\\u" in original and original.isascii()
    if original.lstrip().startswith('"'):
        return json.dumps(text, ensure_ascii=ascii_only)
    lines = text.splitlines(keepends=True)
    if not lines:
        return "[]"
    match = re.match(r"\[(\s*)", original)
    opening = match.group(1) if match else ""
    closing = re.search(r"(\s*)\]$", original)
    closing_space = closing.group(1) if closing else ""
    separator = "," + opening if opening else ", "
    items = separator.join(json.dumps(line, ensure_ascii=ascii_only) for line in lines)
    if not opening:
        return f"[{items}]"
    return f"[{opening}{items}{closing_space}]"


def _nearest(cells: Sequence[CodeCell], line: int) -> CodeCell | None:
    before = [cell for cell in cells if cell.first_line <= line]
    return before[-1] if before else (cells[0] if cells else None)


# ------------------------------------------------------------- locating sources

def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """For each cell index, the character span of its ``source`` value in the notebook's JSON text."""
    scanner = _Scanner(text)
    spans: dict[int, tuple[int, int]] = {}
    scanner.value(("",), spans)
    return spans


class _Scanner:
    """Just enough of a JSON reader to find where values start and end (the text is already valid JSON)."""

    _NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
    _STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
            self.at += 1

    def value(self, path: tuple, spans: dict[int, tuple[int, int]]) -> None:
        self.skip()
        start = self.at
        char = self.text[self.at]
        if char == "{":
            self.at += 1
            self.skip()
            while self.text[self.at] != "}":
                key = self.string()
                self.skip()
                self.at += 1  # the colon
                self.value((*path, key), spans)
                self.skip()
                if self.text[self.at] == ",":
                    self.at += 1
                    self.skip()
            self.at += 1
        elif char == "[":
            self.at += 1
            self.skip()
            index = 0
            while self.text[self.at] != "]":
                self.value((*path, index), spans)
                index += 1
                self.skip()
                if self.text[self.at] == ",":
                    self.at += 1
                    self.skip()
            self.at += 1
        elif char == '"':
            self.string()
        else:
            match = self._NUMBER.match(self.text, self.at)
            if match and match.end() > self.at:
                self.at = match.end()
            else:
                self.at += next(len(word) for word in ("true", "false", "null") if self.text.startswith(word, self.at))
        if len(path) == 4 and path[1] == "cells" and path[3] == "source" and isinstance(path[2], int):
            spans[path[2]] = (start, self.at)

    def string(self) -> str:
        match = self._STRING.match(self.text, self.at)
        assert match is not None
        self.at = match.end()
        return json.loads(match.group(0))
