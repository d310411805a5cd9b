"""Renderers: thin views over the engine's diagnostics, one module per format.

Every renderer is ``render(diagnostics, context) -> str``; the context carries
what a format needs beyond the findings (colour, the rule catalog, the files
linted, the folder paths are relative to).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bnlint.diagnostics import Severity


@dataclass(frozen=True)
class RuleInfo:
    """A code's metadata, as SARIF and the statistics table show it."""

    code: str
    name: str
    summary: str
    severity: Severity
    enabled_by_default: bool = True
    fix_safety: str = "none"
    documentation: str = ""


@dataclass(frozen=True)
class RenderContext:
    color: bool = False
    rules: tuple[RuleInfo, ...] = ()
    files: tuple[str, ...] = ()  # every file linted, clean ones included
    root: Path = field(default_factory=Path.cwd)  # paths in SARIF / GitHub output are relative to it
    version: str = ""
    unsafe_fixes: bool = False  # --unsafe-fixes: unsafe fixes count as fixable ([*])
    sources: Mapping[str, bytes] = field(default_factory=dict)  # text of files not on disk (standard input)
    fixed: int | None = None  # --fix: how many findings the written fixes removed
    # The lowest severity that fails the run, for the summary's note on a run that
    # shows findings and still exits 0; None where the exit code is decided otherwise.
    fail_on: Severity | None = None

    def rule(self, code: str) -> RuleInfo | None:
        return next((rule for rule in self.rules if rule.code == code), None)

    def relative(self, path: str) -> str:
        """``path`` relative to ``root`` in POSIX form, or absolute when it lies outside."""
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(os.path.abspath(self.root)).as_posix()
        except ValueError:
            return absolute.as_posix()


def rule_catalog() -> tuple[RuleInfo, ...]:
    """Every code bnlint can report: the rules, unused-suppression, and the file problems."""
    from bnlint.diagnostics import ANALYSIS_INCOMPLETE, INTERNAL_ERROR, IO_ERROR, PARSE_ERROR
    from bnlint.rules import CATALOG
    from bnlint.suppress import UNUSED_SUPPRESSION, UNUSED_SUPPRESSION_SUMMARY

    infos = [RuleInfo(r.code, r.name, r.summary, r.severity, r.enabled_by_default, r.fix_safety, r.documentation())
             for r in CATALOG]
    infos.append(RuleInfo(UNUSED_SUPPRESSION[0], UNUSED_SUPPRESSION[1], UNUSED_SUPPRESSION_SUMMARY,
                          Severity.WARNING, enabled_by_default=False))
    infos.append(RuleInfo(PARSE_ERROR[0], PARSE_ERROR[1], "The file is not valid Python; it was not linted.",
                          Severity.ERROR))
    infos.append(RuleInfo(IO_ERROR[0], IO_ERROR[1], "The file could not be read or analysed; it was not linted.",
                          Severity.ERROR))
    infos.append(RuleInfo(INTERNAL_ERROR[0], INTERNAL_ERROR[1],
                          "bnlint failed on the file (a bug in bnlint); it was not checked and the run exits 2.",
                          Severity.ERROR))
    infos.append(RuleInfo(ANALYSIS_INCOMPLETE[0], ANALYSIS_INCOMPLETE[1],
                          "A time, step or size budget stopped part of the file's analysis; findings may be missing.",
                          Severity.INFO))
    return tuple(infos)


def use_color(stream: IO[str], environ: Mapping[str, str] | None = None, choice: bool | None = None) -> bool:
    """Colour on a terminal unless ``NO_COLOR`` is set (https://no-color.org); ``choice`` overrides both."""
    if choice is not None:
        return choice
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33", "blue": "34", "cyan": "36"}
SEVERITY_COLOR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def paint(text: str, style: str, color: bool) -> str:
    if not color:
        return text
    codes = ";".join(_SGR[part] for part in style.split("+"))
    return f"\x1b[{codes}m{text}\x1b[0m"


__all__: Sequence[str] = ("RenderContext", "RuleInfo", "paint", "rule_catalog", "use_color")
