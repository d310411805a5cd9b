"""What ``--fix``, ``--diff`` and the fixability marks of a plain run do with the fixer's results."""
from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bnlint.api import FileResult, fix_paths, lint_paths
from bnlint.config import Settings
from bnlint.fixer import FixOutcome, annotate_refusals
from bnlint.fixer.single import annotate_replacements


def diff(paths: list[str], settings: Settings, unsafe: bool) -> int:
    """Print what ``--fix`` would change as a unified diff; write nothing. Exit 1 when there are changes."""
    changed = errors = 0
    for outcome in fix_paths(paths, settings, unsafe, write=False):
        if outcome.error is not None:
            errors += 1
            print(f"{outcome.path}: error: {outcome.error}", file=sys.stderr)
            continue
        if outcome.problem is not None:
            print(f"{outcome.path}: warning: {outcome.problem}", file=sys.stderr)
        if not outcome.changed:
            continue
        changed += 1
        sys.stdout.write(unified_diff(outcome))
    sys.stdout.flush()
    if errors:
        return 2
    return 1 if changed else 0


def unified_diff(outcome: FixOutcome) -> str:
    before = outcome.original.decode("utf-8", errors="replace").splitlines(keepends=True)
    after = outcome.fixed.decode("utf-8", errors="replace").splitlines(keepends=True)
    absolute = Path(outcome.path).is_absolute()
    old, new = (outcome.path, outcome.path) if absolute else (f"a/{outcome.path}", f"b/{outcome.path}")
    lines = list(difflib.unified_diff(before, after, old, new))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def fix(paths: list[str], settings: Settings, unsafe: bool, fixed: list[FixOutcome]) -> Iterator[FileResult]:
    """Fix and write every file; yield what is left to report. ``fixed`` collects the outcomes."""
    for outcome in fix_paths(paths, settings, unsafe, write=True):
        if outcome.problem is not None:
            print(f"{outcome.path}: warning: {outcome.problem}", file=sys.stderr)
        if outcome.changed:
            fixed.append(outcome)
        yield FileResult(outcome.path, outcome.remaining, outcome.error)


def lint_with_fixability(paths: list[str], settings: Settings, **run_options: Any) -> Iterator[FileResult]:
    """Lint; a finding whose fix the fixer would refuse is marked so it is not shown as fixable.

    ``run_options`` go to ``lint_paths``: ``jobs``, ``cache``, ``progress``. The marks are
    made where each file is linted (in a worker, before the result is cached), so a
    cached file costs no second parse.
    """
    yield from lint_paths(paths, settings, annotate=mark_refusals, **run_options)


def lint_with_fix_previews(paths: list[str], settings: Settings, **run_options: Any) -> Iterator[FileResult]:
    """``lint_with_fixability``, and each fixable finding also carries its own fix as replaced lines.

    For the outputs that show a fix (full's ``help:`` diff, SARIF's ``fixes[]``); a plain run skips the work.
    """
    yield from lint_paths(paths, settings, annotate=mark_refusals_and_previews, **run_options)


def mark_refusals(result: FileResult) -> None:
    """Set ``extra["fix_refused"]`` on the findings of ``result`` whose fix the fixer would refuse."""
    try:
        annotate_refusals(result)
    except Exception:  # noqa: BLE001 - marks are a nicety; the findings stand without them
        return


def mark_refusals_and_previews(result: FileResult) -> None:
    mark_refusals(result)
    annotate_replacements(result)


def fixed_count(outcomes: list[FixOutcome]) -> int:
    """How many findings the written fixes removed, the "fixed" of the summary line."""
    return sum(sum(o.removed().values()) for o in outcomes)


def show_fixes(outcomes: list[FixOutcome]) -> str:
    """``Fixed N problems:`` then, per file, how many findings of each code the fixes removed."""
    removed = {o.path: o.removed() for o in outcomes}
    total = fixed_count(outcomes)
    if not total:
        return "No problems fixed.\n"
    lines = [f"Fixed {total} problem{'s' if total != 1 else ''}:"]
    for path in sorted(removed):
        if not removed[path]:
            continue
        lines.append(f"- {path}:")
        for (code, name), count in sorted(removed[path].items()):
            lines.append(f"    {count} × {code} ({name})")
    return "\n".join(lines) + "\n"
