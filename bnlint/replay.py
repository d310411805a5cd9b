"""A warm run: the same command over a tree where nothing changed prints what it printed last time.

An editor or pre-commit loop runs the same ``bnlint`` command again and again over
files that mostly did not change. The per-file result cache still imports the
engine and LibCST, reads every file and hashes it: most of a warm run's time. So
after a plain lint run (no ``--fix``, ``--diff``, ``--dynamic``, standard input or
``--no-cache``) its output and exit code are kept in one record per command, with a
stamp (size and modification time) of everything the result depended on: each
folder the file discovery listed (a file added or removed changes its folder's
time), each file it linted, and each project module a file traced into. The next
identical command, in the same folder, with the same settings, the same bnlint
and the same terminal, stats those paths; when every stamp matches it prints the
recorded output without importing the engine. Any difference, any error reading
the record, and it runs in full (and records again).

Two things keep a stamp honest, as in git's index: a run whose output carries a
file problem or an internal error is not recorded (it may not recur), and no
record is written while a stamped path changed less than ``RACY_SECONDS`` ago, since
a second edit within the file system's time resolution could leave its stamp as it was.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bnlint.arguments import build_parser
from bnlint.cache import code_fingerprint, default_cache_dir, read_entry, settings_fingerprint
from bnlint.config import ConfigError, Settings, load_settings

RACY_SECONDS = 2.0
_FORMAT = 1
# What the output depends on besides files and settings: colour and its switches.
_ENVIRONMENT = ("NO_COLOR",)
_NOT_REPLAYED = ("fix", "diff", "add_noqa", "show_settings", "show_files", "dynamic", "no_cache", "verbose")


def replayable(options: Any) -> bool:
    """Whether a run with these options only reads files and prints: the runs that are recorded."""
    return options.paths != ["-"] and not any(getattr(options, name) for name in _NOT_REPLAYED)


def record_path(options: Any, settings: Settings, argv: Sequence[str]) -> Path:
    """Where the record of this command lives: one file per command, folder, settings and bnlint."""
    root = Path(options.cache_dir) if options.cache_dir else default_cache_dir(settings)
    key = hashlib.sha256(json.dumps([
        _FORMAT, list(argv), os.getcwd(), code_fingerprint(), settings_fingerprint(settings),
        sys.stdout.isatty(), [os.environ.get(name, "") for name in _ENVIRONMENT],
    ]).encode()).hexdigest()
    return root / "runs" / f"{key}.json"


def try_replay(argv: Sequence[str]) -> int | None:
    """Print the recorded output of this command and return its exit code, or None to run it."""
    argv = list(argv)
    if argv[:1] in (["rule"], ["rules"], ["server"], ["graph"]):
        return None
    try:
        options = build_parser().parse_args(argv[1:] if argv[:1] == ["check"] else argv)
    except SystemExit:
        return None  # --help, --version, a usage error: the full command line says it
    if not replayable(options):
        return None
    try:
        settings = load_settings(options.paths, config=options.config, isolated=options.isolated)
        record = json.loads(read_entry(record_path(options, settings, argv)))
        if not all(_stamp(path) == stamp for path, stamp in record["stamps"]):
            return None
        output, code = str(record["output"]), int(record["code"])
    except (OSError, ValueError, KeyError, TypeError, ConfigError, RecursionError, MemoryError):
        return None
    sys.stdout.write(output)
    sys.stdout.flush()
    return code


def write_record(path: Path, output: str, code: int, paths: Iterable[str]) -> None:
    """Keep this run's output with the stamps of ``paths``; a failure to write costs only the next run's speed."""
    stamps = []
    fresh_after = time.time_ns() - int(RACY_SECONDS * 1e9)
    for item in dict.fromkeys(os.path.abspath(p) for p in paths):
        stamp = _stamp(item)
        if stamp is not None and stamp[1] > fresh_after:
            return  # changed a moment ago: its stamp cannot tell a further change yet
        stamps.append((item, stamp))
    text = json.dumps({"output": output, "code": code, "stamps": stamps})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        return


def _stamp(path: str) -> list[int] | None:
    """Size and modification time, or None for a path that is not there (its appearing is a change too)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]
