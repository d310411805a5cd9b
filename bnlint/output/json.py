"""JSON output: a list of findings, the contract tools build on."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bnlint.diagnostics import Diagnostic
from bnlint.output import RenderContext


def as_dict(d: Diagnostic) -> dict[str, Any]:
    entry = _fields(d)
    if "cell" in d.extra:  # a notebook finding: ``line`` counts from the first line of this cell
        entry["cell"] = d.extra["cell"]
    if "dynamic_device" in d.extra:  # --dynamic: why the verdict, and which device built the file
        entry["dynamic_reason"] = d.extra.get("dynamic_reason")
        entry["dynamic_device"] = d.extra["dynamic_device"]
    return entry


def _fields(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "path": d.path,
        "line": d.line,
        "column": d.column,
        "end_line": d.end_line,
        "end_column": d.end_column,
        "severity": d.severity.label,
        "fix": None if d.fix is None else {
            "title": d.fix.title,
            "applicability": d.fix.applicability.value,
            "edits": [edit.describe() for edit in d.fix.edits],
        },
        "dynamic": d.dynamic,
        "related": [{"line": r.line, "column": r.column, "end_line": r.end_line, "end_column": r.end_column,
                     "message": r.description} for r in d.related],
    }


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    return json.dumps([as_dict(d) for d in diagnostics], indent=2) + "\n"
