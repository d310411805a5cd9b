"""The result cache: a file whose bytes, settings and bnlint are unchanged is not linted again.

One entry per linted file, named by a hash of the file's absolute path, the
settings and bnlint's own code, so a second run with other settings keeps its
own entries instead of overwriting the first run's. The entry holds the hash of
the file's content and the file's diagnostics, findings included (Ruff caches
only clean files; a project that lives with a few findings would lose the cache
on exactly the files that matter).

A cache is an optimisation, never a source of truth: an entry that cannot be
read or does not parse is a miss, a write that fails is skipped, and internal
errors are never stored, so the next run tries the file again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from bnlint import __version__
from bnlint.config import Settings
from bnlint.diagnostics import FILE_PROBLEM_CODES, Applicability, Diagnostic, Edit, Fix, Related, Severity

CACHE_DIR_NAME = ".bnlint_cache"
_FORMAT = 1  # bump when the entry layout changes


def default_cache_dir(settings: Settings) -> Path:
    """The project root's ``.bnlint_cache``: the config file's folder, else the current one."""
    root = settings.config_file.parent if settings.config_file is not None else Path.cwd()
    return root / CACHE_DIR_NAME


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ResultCache:
    """Diagnostics of files already linted under the same settings by the same bnlint."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.root = Path(directory)
        self.directory = self.root / __version__
        self.fingerprint = hashlib.sha256(
            f"{_FORMAT}\0{code_fingerprint()}\0{settings_fingerprint(settings)}".encode()
        ).hexdigest()
        # Counters of this process's lookups and writes, for --verbose and the tests.
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def entry_path(self, path: Path | str, variant: str = "") -> Path:
        """Where the entry of ``path`` lives; ``variant`` names what an annotated run adds to results."""
        key = hashlib.sha256(f"{self.fingerprint}\0{variant}\0{os.path.abspath(path)}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, path: Path | str, digest: str,
            variant: str = "") -> tuple[list[Diagnostic], bool, dict[str, str]] | None:
        """The cached ``(diagnostics, parsed, dependencies)`` of ``path`` whose content hashes to
        ``digest``, or None; ``dependencies`` are the project modules the result traced into."""
        try:
            entry = json.loads(read_entry(self.entry_path(path, variant)))
            if entry["digest"] != digest:
                raise LookupError("stale")
            for dependency, expected in entry.get("dependencies", {}).items():
                if content_digest(read_entry(Path(dependency))) != expected:
                    raise LookupError("an imported project module changed")
            found = ([_load_diagnostic(item, str(path)) for item in entry["diagnostics"]], bool(entry["parsed"]),
                     {str(k): str(v) for k, v in entry.get("dependencies", {}).items()})
        except Exception:  # noqa: BLE001 - absent, stale or damaged in any way (deep JSON: RecursionError)
            self.misses += 1  # lint the file again; its new entry replaces this one
            return None
        self.hits += 1
        return found

    def put(self, path: Path | str, digest: str, diagnostics: Iterable[Diagnostic], parsed: bool,
            variant: str = "", dependencies: dict[str, str] | None = None) -> None:
        """Store a result; ``dependencies`` (path -> digest) are the project modules it traced into."""
        diagnostics = list(diagnostics)
        if any(d.code in FILE_PROBLEM_CODES for d in diagnostics):
            return  # a read problem, a failure or a budget run out may not recur: try again next run
        try:
            text = json.dumps({"digest": digest, "parsed": parsed, "dependencies": dependencies or {},
                               "diagnostics": [_dump_diagnostic(d, str(path)) for d in diagnostics]})
        except (TypeError, ValueError):
            return  # something in ``extra`` that JSON cannot hold: leave this file uncached
        target = self.entry_path(path, variant)
        try:
            _prepare(self.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, text)
        except OSError:
            return  # a read-only or full disk slows the next run down; it must not fail this one
        self.writes += 1


def settings_fingerprint(settings: Settings) -> str:
    """Every setting, in a stable text form: any change to them makes every entry a miss."""
    return json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)


_code_fingerprint: str | None = None


def code_fingerprint() -> str:
    """bnlint's version and the size and mtime of each of its modules, rules included.

    A checkout under development changes its rules without changing its version;
    stat-ing some forty files once per run catches that for a fraction of a millisecond each.
    """
    global _code_fingerprint
    if _code_fingerprint is None:
        parts = [__version__, f"{sys.version_info[0]}.{sys.version_info[1]}", _libcst_version()]
        for package in ("bnlint", "bnlint.rules"):
            spec = importlib.util.find_spec(package)  # where it lies, without importing the rules
            # The package's own folder: in a checkout ``bnlint.__path__`` also holds the
            # repository root (for ``rules/``), which is no part of bnlint's code.
            folders = [os.path.dirname(spec.origin)] if spec is not None and spec.origin else []
            for folder in folders:
                for directory, dirnames, filenames in os.walk(folder):
                    dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                    for name in sorted(filenames):
                        if name.endswith(".py"):
                            stat = os.stat(os.path.join(directory, name))
                            parts.append(f"{os.path.relpath(os.path.join(directory, name), folder)}:"
                                         f"{stat.st_size}:{stat.st_mtime_ns}")
        _code_fingerprint = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return _code_fingerprint


def _libcst_version() -> str:
    try:
        return metadata.version("libcst")
    except metadata.PackageNotFoundError:  # pragma: no cover - a vendored or unusual install
        return "unknown"


def _prepare(root: Path) -> None:
    """Create the cache folder, marked so that git and backup tools leave it alone."""
    if (root / "CACHEDIR.TAG").exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    # Written by rename, never by opening what is there: a FIFO planted under either name cannot block.
    _write_atomically(root / ".gitignore", "# Created by bnlint.\n*\n")
    _write_atomically(root / "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                             "# This file is a cache directory tag created by bnlint.\n")


# No entry bnlint writes comes near this; anything larger is damage (or a link to /dev/zero).
MAX_ENTRY_BYTES = 16 * 2**20


def read_entry(path: Path) -> bytes:
    """The bytes of the entry at ``path``; OSError unless it is a regular file of at most MAX_ENTRY_BYTES.

    Opened without blocking and without following a final symlink, and checked
    on the open descriptor: a FIFO, a device or a link planted in the cache is
    a miss, not a hang.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            raise OSError(f"not a cache entry: {path}")
        data = handle.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:
        raise OSError(f"cache entry too large: {path}")
    return data


def _write_atomically(target: Path, text: str) -> None:
    # Readers see the old entry or the new one, never half of one: parallel
    # workers and an interrupted run cannot leave a torn file behind.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _dump_diagnostic(d: Diagnostic, path: str) -> dict[str, Any]:
    return {
        # A finding in an imported project module carries that module's path.
        **({} if d.path == path else {"path": d.path}),
        "code": d.code, "name": d.name, "message": d.message,
        "line": d.line, "column": d.column, "end_line": d.end_line, "end_column": d.end_column,
        "severity": d.severity.name, "dynamic": d.dynamic, "extra": d.extra, "related": d.related,
        "fix": None if d.fix is None else {
            "title": d.fix.title, "applicability": d.fix.applicability.value,
            "edits": [{"kind": e.kind, "keyword": e.keyword, "value": e.value} for e in d.fix.edits],
        },
    }


def _load_diagnostic(item: dict[str, Any], path: str) -> Diagnostic:
    fix = item["fix"]
    return Diagnostic(
        str(item["code"]), str(item["name"]), str(item["message"]), str(item.get("path", path)),
        int(item["line"]), int(item["column"]), int(item["end_line"]), int(item["end_column"]),
        Severity[item["severity"]],
        None if fix is None else Fix(
            str(fix["title"]), Applicability(fix["applicability"]),
            # The edits' LibCST targets do not survive a cache: renderers need only
            # what ``Edit.describe`` shows, and a fix run lints afresh.
            tuple(Edit(e["kind"], None, e["keyword"], e["value"]) for e in fix["edits"]),
        ),
        item["dynamic"], dict(item["extra"]),
        [Related(int(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in item.get("related", ())],
    )
