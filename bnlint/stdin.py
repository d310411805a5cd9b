"""Standard input linted as if it were a file: ``bnlint - --stdin-filename src/model.py``.

Editors pipe an unsaved buffer through this. The file name decides everything a
real file's path decides: which config applies, its per-file-ignores and
excludes, and whether the text is a notebook. An excluded name yields no
findings, and ``--fix`` echoes the text back unchanged.
"""
from __future__ import annotations

from pathlib import Path

from bnlint import api
from bnlint.config import Settings
from bnlint.discovery import is_excluded
from bnlint.fixer import FixOutcome
from bnlint.fixer.command import mark_refusals_and_previews

PATH = "-"  # the path argument that means standard input


def display_name(filename: str | None) -> str:
    return filename or PATH


def excluded(filename: str | None, settings: Settings) -> bool:
    return filename is not None and is_excluded(Path(filename), settings.exclude_patterns())


def lint_stdin(data: bytes, filename: str | None, settings: Settings) -> api.FileResult:
    """The findings of ``data`` as the file ``filename`` (fixability marked, as for a file)."""
    name = display_name(filename)
    if excluded(filename, settings):
        return api.FileResult(name)
    result = api.lint_data(name, data, settings, api.select_rules(settings), keep_syntax=True)
    mark_refusals_and_previews(result)
    result.syntax = None
    return result


def fix_stdin(data: bytes, filename: str | None, settings: Settings, unsafe: bool) -> FixOutcome:
    """What ``--fix`` makes of ``data`` as the file ``filename``; nothing is written anywhere."""
    name = display_name(filename)
    if excluded(filename, settings):
        return FixOutcome(name, data, data)
    try:
        return api.fix_data(name, data, settings, api.select_rules(settings), unsafe)
    except Exception as error:  # noqa: BLE001 - the text goes back unchanged, with the reason
        return FixOutcome(name, data, data, error=f"internal error while fixing: {type(error).__name__}: {error}")
