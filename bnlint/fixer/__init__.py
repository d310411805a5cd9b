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
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from bnlint.config import Settings
from bnlint.diagnostics import IO_ERROR, Applicability, Diagnostic
from bnlint.fixer.apply import ApplyChanges
from bnlint.fixer.plan import Changes, plan_fix
from bnlint.fixer.source import Refused, Source
from bnlint.frontend.budget import file_budget
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
    """Fix ``data`` to a fixed point, under the file's time budget; nothing about the file escapes as an exception.

    An internal failure is an E900 finding (and ``error``); a budget that cut the
    analysis short adds an E901 finding, as a plain lint does.
    """
    from bnlint import api  # the engine imports the fixer's callers, not the reverse

    try:
        with file_budget() as watch:
            outcome = _fix_to_fixed_point(name, data, settings, rules, unsafe)
    except RecursionError:
        return FixOutcome(name, data, data, remaining=[
            api._file_diagnostic(name, IO_ERROR, "code nested too deeply to analyse; skipped")])
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the run
        failed = api.internal_error_result(name, "fixing", error)
        return FixOutcome(name, data, data, remaining=failed.diagnostics, error=failed.error)
    note = api.incomplete_diagnostic(name, watch.cut_short)
    if note is not None:
        outcome.remaining.append(note)
    return outcome


def _fix_to_fixed_point(name: str, data: bytes, settings: Settings, rules: list[Rule], unsafe: bool) -> FixOutcome:
    """Passes of fixes until none is left; passes that keep undoing each other are dropped, not the file."""
    from bnlint.api import lint_source

    first = lint_source(name, data, settings, rules, keep_syntax=True)
    found = list(first.diagnostics)
    if any(applies(d, unsafe) for d in first.diagnostics):
        invalid = _invalid_for_this_python(data, name)
        if invalid is not None:
            return FixOutcome(name, data, data, remaining=_refuse_all(first, unsafe, invalid), problem=invalid,
                              found=found)
    # texts[i] is the text after i passes, results[i] its lint, applied[i] the findings pass i fixed.
    texts, results, applied = [data], [first], []
    stopped = ""
    for _ in range(MAX_PASSES):
        result = results[-1]
        changes, chosen = _plan_pass(result, unsafe)
        if not chosen:
            break
        module = result.syntax[0]
        new = _keep_final_newline(texts[-1], module.visit(ApplyChanges(changes, module)).bytes)
        broken = _syntax_problem(new, name)
        if broken is not None:
            return FixOutcome(name, data, data, remaining=_unfixed(first, unsafe),
                              problem=f"a fix would have broken the syntax ({broken}); the file was left unchanged",
                              found=found)
        if new == texts[-1]:
            break
        if new in texts:
            # The fixes since that text undo one another: keep the passes before the cycle began.
            cycle_start = texts.index(new)
            del texts[cycle_start + 1:], results[cycle_start + 1:], applied[cycle_start:]
            stopped = "its fix and another finding's fix undo each other"
            break
        texts.append(new)
        applied.append(chosen)
        results.append(lint_source(name, new, settings, rules, keep_syntax=True))
    else:
        if _plan_pass(results[-1], unsafe)[1]:
            stopped = f"the fixes did not settle after {MAX_PASSES} passes"
    result = results[-1]
    problem = None
    if stopped:
        _refuse_all(result, unsafe, f"not fixed automatically: {stopped}")
        problem = f"{stopped}; the passes that settled were applied, the rest left as findings"
    annotate_refusals(result, unsafe)
    return FixOutcome(name, data, texts[-1], [d for chosen in applied for d in chosen], result.diagnostics,
                      problem=problem, found=found)


def _keep_final_newline(before: bytes, after: bytes) -> bytes:
    """``after`` ending as ``before`` did: LibCST drops the final newline of a file with CR-only line ends."""
    if before.endswith(b"\r") and not after.endswith(b"\r"):
        return after + b"\r"
    return after


def _refuse_all(result, unsafe: bool, reason: str) -> list[Diagnostic]:
    """Mark every finding of ``result`` whose fix would apply as not fixable, for ``reason``."""
    for diagnostic in result.diagnostics:
        if applies(diagnostic, unsafe):
            diagnostic.extra.setdefault("fix_refused", reason)
    return result.diagnostics


def _invalid_for_this_python(data: bytes, name: str) -> str | None:
    """Why this Python cannot compile the file (newer syntax, a repeated keyword), or None when it can.

    LibCST parses some code the running Python rejects; every fix of such a file
    would seem to break its syntax, so the file is refused for what it is.
    """
    try:
        compile(data, name, "exec", dont_inherit=True)
    except SyntaxError as error:
        version = ".".join(map(str, sys.version_info[:2]))
        where = f"line {error.lineno}: " if error.lineno else ""
        return (f"the file is not valid Python {version} ({where}{error.msg}); "
                "fixes are only applied to code this Python can compile")
    except (ValueError, MemoryError, RecursionError):
        return None
    return None


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
    """The file on disk is no longer the text that was fixed; ``current`` is what it holds now."""

    def __init__(self, message: str, current: bytes | None = None) -> None:
        super().__init__(message)
        self.current = current


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, expected_digest: str) -> None:
    """Write ``data`` to the file ``path`` names, keeping what the file is.

    A symlink is followed: its target gets the new text, the link stays a link.
    A file with one name is replaced atomically (temp file in the same folder,
    the original's mode and, where allowed, owner, then a rename), so a reader
    never sees half a file. A file with several hard links cannot be renamed
    over without splitting them, so it is rewritten in place instead (the text
    was already checked to parse). Right before writing, the file is read again;
    if it no longer holds the text that was fixed, nothing is written and
    FileChanged is raised.
    """
    target = Path(os.path.realpath(path))
    info = target.stat()
    if info.st_nlink > 1:
        _write_in_place(target, data, expected_digest)
        return
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bnlint-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(temp, info)
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        _check_unchanged(target, expected_digest)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _write_in_place(target: Path, data: bytes, expected_digest: str) -> None:
    with open(target, "r+b") as handle:
        current = handle.read()
        if digest(current) != expected_digest:
            raise FileChanged(f"{target} changed on disk while it was being fixed; not written", current)
        handle.seek(0)
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def _keep_owner(temp: str, info: os.stat_result) -> None:
    """Give the new file the original's owner and group; only root may give a file away."""
    if not hasattr(os, "chown"):
        return
    try:
        os.chown(temp, info.st_uid, info.st_gid)
    except PermissionError:
        try:
            os.chown(temp, -1, info.st_gid)  # a member of the file's group may keep at least that
        except PermissionError:
            pass


def _check_unchanged(target: Path, expected_digest: str) -> None:
    current = target.read_bytes()
    if digest(current) != expected_digest:
        raise FileChanged(f"{target} changed on disk while it was being fixed; not written", current)
