"""Which files a run looks at, in a deterministic order."""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".bnlint_cache",
    ".tox", ".nox", ".venv", "venv", "env", "node_modules", "build", "dist", "site-packages", ".eggs",
})


def discover(paths: list[str], exclude: list[str] | None = None) -> Iterator[Path]:
    """Python files under ``paths``; a file named explicitly is always linted."""
    patterns = exclude or []
    seen: set[Path] = set()
    for raw in paths:
        root = Path(raw)
        if root.is_dir():
            found = sorted(_walk(root, patterns))
        else:
            found = [root]  # missing or unreadable: the engine reports it
        for path in found:
            if path not in seen:
                seen.add(path)
                yield path


def _walk(root: Path, patterns: list[str]) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root):
        base = Path(directory)
        dirnames[:] = [
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and not (base / d / "pyvenv.cfg").exists() and not _excluded(base / d, patterns)
        ]
        for name in filenames:
            if name.endswith((".py", ".pyi")) and not _excluded(base / name, patterns):
                yield base / name


def _excluded(path: Path, patterns: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, f"*/{p}")
               for p in patterns)
