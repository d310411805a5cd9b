"""Autofix: rule edits -> one LibCST transform per pass -> re-parse -> re-lint, to a fixed point.

Each pass lints the current text, plans every applicable fix against the
parsed module (``plan.py``), applies them all in one transformer keyed by the
original nodes (``apply.py``), and checks that the result still parses. Passes
repeat until nothing is left to fix (at most ``MAX_PASSES``): a fix can expose
the next one (a Dropout moved after one BN may still feed a later BN). A pass
that breaks the syntax, or a loop that does not settle, leaves the file as it
was and says why. Writing is atomic and never clobbers a file that changed on
disk while it was being fixed.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Diagnostic
from bnlint.fixer.apply import ApplyChanges
from bnlint.fixer.plan import Changes, plan_fix
from bnlint.fixer.source import Refused, Source
from bnlint.rule import Rule

MAX_PASSES = 10


@dataclass
class FixOutcome:
    """What fixing one file's text did."""

    path: str
    original: bytes
    fixed: bytes
    applied: list[Diagnostic] = field(default_factory=list)  # the findings whose fixes were applied
    remaining: list[Diagnostic] = field(default_factory=list)  # the findings of the fixed text
    problem: str | None = None  # why the file was left unchanged (fixes were available but not applied)
    error: str | None = None  # an internal failure
    found: list[Diagnostic] = field(default_factory=list)  # the findings of the original text

    def removed(self) -> Counter[tuple[str, str]]:
        """How many findings of each (code, name) the fixes removed."""
        if not self.changed:
            return Counter()
        before = Counter((d.code, d.name) for d in self.found)
        before.subtract(Counter((d.code, d.name) for d in self.remaining))
        return +before

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def applies(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and (fix.applicability is Applicability.SAFE or unsafe)


def fix_source(name: str, data: bytes, settings: Settings, rules: list[Rule], unsafe: bool = False) -> FixOutcome:
    from bnlint.api import lint_source  # the engine imports the fixer's callers, not the reverse

    current = data
    applied: list[Diagnostic] = []
    result = first = lint_source(name, current, settings, rules, keep_syntax=True)
    found = list(result.diagnostics)
    for _ in range(MAX_PASSES):
        changes, chosen = _plan_pass(result, unsafe)
        if not chosen:
            break
        module = result.syntax[0]
        new = module.visit(ApplyChanges(changes, module)).bytes
        broken = _syntax_problem(new, name)
        if broken is not None:
            return FixOutcome(name, data, data, remaining=_unfixed(first, unsafe),
                              problem=f"a fix would have broken the syntax ({broken}); the file was left unchanged")
        if new == current:
            break
        current = new
        applied.extend(chosen)
        result = lint_source(name, current, settings, rules, keep_syntax=True)
    else:
        if _plan_pass(result, unsafe)[1]:
            return FixOutcome(name, data, data, remaining=_unfixed(first, unsafe),
                              problem=f"the fixes did not settle after {MAX_PASSES} passes; "
                                      "the file was left unchanged")
    remaining = result.diagnostics
    annotate_refusals(result, unsafe)
    return FixOutcome(name, data, current, applied, remaining, found=found)


def _unfixed(first, unsafe: bool) -> list[Diagnostic]:
    """The original file's findings, for when its fixes are abandoned."""
    annotate_refusals(first, unsafe)
    return first.diagnostics


def _plan_pass(result, unsafe: bool) -> tuple[Changes, list[Diagnostic]]:
    """Every applicable fix that does not collide with one already taken this pass."""
    total, chosen = Changes(), []
    if result.syntax is None:
        return total, chosen
    candidates = [d for d in result.diagnostics if applies(d, unsafe)]
    if not candidates:
        return total, chosen
    src = Source(*result.syntax)
    for diagnostic in candidates:
        try:
            changes = plan_fix(src, diagnostic.fix)
        except Refused as refusal:
            diagnostic.extra["fix_refused"] = str(refusal)
            continue
        if changes.empty() or changes.conflicts(total):
            continue  # a colliding fix waits for the next pass
        total.merge(changes)
        chosen.append(diagnostic)
    return total, chosen


def annotate_refusals(result, unsafe: bool = True) -> None:
    """Mark findings whose fix the fixer cannot carry out: ``extra["fix_refused"]`` says why.

    Only then does the text output stop showing them as fixable.
    """
    if result.syntax is None or not any(d.fix is not None for d in result.diagnostics):
        return
    src = Source(*result.syntax)
    for diagnostic in result.diagnostics:
        if diagnostic.fix is None or "fix_refused" in diagnostic.extra:
            continue
        try:
            plan_fix(src, diagnostic.fix)
        except Refused as refusal:
            diagnostic.extra["fix_refused"] = str(refusal)


def is_fixable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    return applies(diagnostic, unsafe) and "fix_refused" not in diagnostic.extra


def _syntax_problem(data: bytes, name: str) -> str | None:
    try:
        cst.parse_module(data)
        compile(data, name, "exec", dont_inherit=True)  # also catches what the grammar allows, e.g. f(a=1, a=2)
    except cst.ParserSyntaxError as error:
        return f"line {error.editor_line}: {error.message}"
    except (SyntaxError, ValueError) as error:
        return str(error)
    return None


# ---------------------------------------------------------------------- writing

class FileChanged(Exception):
    """The file on disk is no longer the text that was fixed."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, expected_digest: str) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, same mode, then a rename.

    Right before the rename the file is read again; if it no longer has the
    content that was fixed, nothing is written and FileChanged is raised.
    """
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".bnlint-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if digest(path.read_bytes()) != expected_digest:
            raise FileChanged(f"{path} changed on disk while it was being fixed; not written")
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
