"""GitHub Actions workflow commands: one annotation per finding on the pull request's diff.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic, Severity
from bnlint.output import RenderContext

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic, path: str) -> str:
    properties = ",".join(f"{key}={escape_property(str(value))}" for key, value in (
        ("file", path), ("line", d.line), ("col", d.column), ("endLine", d.end_line),
        ("endColumn", d.end_column), ("title", f"{d.code} ({d.name})"),
    ))
    return f"::{COMMAND[d.severity]} {properties}::{escape_data(d.message)}"


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    context = context or RenderContext()
    return "".join(annotation(d, context.relative(d.path)) + "\n" for d in diagnostics)
