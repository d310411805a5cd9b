"""Helpers shared by the rule tests: lint a snippet, read expectations from its comments.

A snippet marks each finding it must produce with a trailing comment on the
reported line::

    x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization

``@text`` pins the column: the finding starts where ``text`` first occurs on the
line. Several findings on one line are separated by ``;``. Lines without a
marker must produce no finding of the codes under test.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import libcst

from bnlint.api import lint_source, select_rules
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic
from bnlint.frontend import build_graphs
from bnlint.graph import LayerGraph

FIXTURES = Path(__file__).parent / "fixtures"
_MARK = re.compile(r"#\s*expect:\s*(?P<items>.+?)\s*$")


def lint(source: str, *codes: str, **settings: object) -> list[Diagnostic]:
    """Diagnostics for ``source`` (dedented) with the given codes selected (default: ALL)."""
    config = Settings(select=list(codes) or ["ALL"], **settings)  # type: ignore[arg-type]
    result = lint_source("model.py", textwrap.dedent(source).encode(), config, select_rules(config))
    assert result.error is None, result.error
    return result.diagnostics


def findings(source: str, *codes: str, **settings: object) -> list[tuple[str, int, int, str]]:
    """(code, line, column, severity) of every finding, in report order."""
    return [(d.code, d.line, d.column, d.severity.label) for d in lint(source, *codes, **settings)]


def expected(source: str) -> list[tuple[str, int, int | None, str]]:
    """The findings a snippet's ``# expect:`` comments announce."""
    found = []
    for number, line in enumerate(textwrap.dedent(source).splitlines(), start=1):
        match = _MARK.search(line)
        if match is None:
            continue
        code_part = line[: match.start()]
        for item in match.group("items").split(";"):
            words, _, anchor = item.strip().partition("@")
            code, severity = words.split()
            column = None
            if anchor:
                index = code_part.find(anchor.strip())
                assert index >= 0, f"anchor {anchor!r} not on line {number}"
                column = index + 1
            found.append((code, number, column, severity))
    return sorted(found, key=lambda f: (f[1], f[0]))


def assert_findings(source: str, *codes: str, **settings: object) -> None:
    """The snippet produces exactly the findings its markers announce (codes: those under test)."""
    want = expected(source)
    got = findings(source, *codes, **settings)
    comparable = []
    columns = {(code, line): column for code, line, column, _ in want}
    for code, line, column, severity in got:
        keep_column = columns.get((code, line), column) is not None
        comparable.append((code, line, column if keep_column else None, severity))
    assert sorted(comparable, key=lambda f: (f[1], f[0])) == want


def graphs(source: str) -> list[LayerGraph]:
    return build_graphs(libcst.parse_module(textwrap.dedent(source)))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
