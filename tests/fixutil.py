"""Fixing source text in-process, for the fixer's tests."""
from __future__ import annotations

import textwrap

from bnlint.api import lint_source, select_rules
from bnlint.config import Settings
from bnlint.fixer import FixOutcome, fix_source


# The fixer's style tests exercise the edits of the four core rules; other default rules
# (BN005's use_bias=False, BN006's momentum) have tests of their own.
CORE_RULES = ["BN001", "BN002", "BN003", "BN004"]


def settings(**changes) -> Settings:
    result = Settings(select=list(CORE_RULES))
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def fix(source: str | bytes, unsafe: bool = True, dedent: bool = True, **options) -> FixOutcome:
    data = source if isinstance(source, bytes) else (textwrap.dedent(source) if dedent else source).encode()
    chosen = settings(**options)
    return fix_source("model.py", data, chosen, select_rules(chosen), unsafe)


def fixed_text(source: str, unsafe: bool = True, **options) -> str:
    outcome = fix(source, unsafe, **options)
    assert outcome.problem is None, outcome.problem
    return outcome.fixed.decode()


def codes(data: bytes | str, **options) -> list[str]:
    chosen = settings(**options)
    raw = data.encode() if isinstance(data, str) else data
    return [d.code for d in lint_source("model.py", raw, chosen, select_rules(chosen)).diagnostics]
