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


SUFFIXES = (".py", ".pyi", ".ipynb")


def discover(paths: list[str], exclude: list[str] | None = None, force_exclude: bool = False,
             visited: list[str] | None = None) -> Iterator[Path]:
    """Python files and notebooks under ``paths``.

    A file named explicitly is linted even when ``exclude`` matches it, unless
    ``force_exclude``: tools such as pre-commit pass every file by name, and the
    config's excludes must still hold for them. ``visited`` collects every folder
    whose listing decided what was found (``bnlint.replay`` stamps them).
    """
    patterns = exclude or []
    seen: set[str] = set()  # real paths: ``a.py`` and ``/abs/a.py`` (or a link to it) are one file
    for raw in paths:
        root = Path(raw)
        if force_exclude and is_excluded(root, patterns):
            continue
        if root.is_dir():
            found = sorted(_walk(root, patterns, visited))
        else:
            found = [root]  # missing or unreadable: the engine reports it
        for path in found:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                yield path


def _walk(root: Path, patterns: list[str], visited: list[str] | None = None) -> Iterator[Path]:
    """The Python files under ``root``, and each folder that could not be listed.

    A folder that cannot be entered is yielded itself: the engine reports it as
    one finding naming it, and the walk goes on with the rest.
    """
    unlisted: list[OSError] = []
    for directory, dirnames, filenames in os.walk(root, onerror=unlisted.append):
        while unlisted:
            failed = unlisted.pop().filename
            if failed is not None:
                yield Path(failed)
        base = Path(directory)
        candidates = [d for d in dirnames if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
                      and not _excluded(base / d, patterns)]
        dirnames[:] = [d for d in candidates if not (base / d / "pyvenv.cfg").exists()]
        if visited is not None:
            # A folder left out for its ``pyvenv.cfg`` comes back when that file goes: it is
            # stamped too. Folders never walked (caches, ``.git``) change without mattering.
            visited.extend([directory, *(os.path.join(directory, d) for d in candidates if d not in dirnames)])
        for name in filenames:
            if name.endswith(SUFFIXES) and not _excluded(base / name, patterns):
                yield base / name
    for error in unlisted:  # the last folder's failure has no later step of the walk to report it
        if error.filename is not None:
            yield Path(error.filename)


def is_excluded(path: Path, patterns: list[str]) -> bool:
    """Whether ``path`` or a folder above it matches an exclude glob."""
    if not patterns:
        return False
    absolute = Path(os.path.abspath(path))
    try:
        inside = absolute.relative_to(Path.cwd())
    except ValueError:
        inside = absolute
    candidates = [path, *path.parents, inside, *inside.parents]
    return any(_excluded(candidate, patterns) for candidate in candidates if candidate.name)


def _excluded(path: Path, patterns: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, f"*/{p}")
               for p in patterns)
