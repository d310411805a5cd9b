"""A cache entry damaged in any way is a miss that the next write replaces, never an error or a hang."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cliutil import AXIS_MODEL, bnlint, write

from bnlint.cache import ResultCache
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic, Severity


def deep_json(depth: int) -> str:
    return '{"digest": ' + "[" * depth + "]" * depth + "}"


def plant(kind: str, entry: Path) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    if entry.exists() or entry.is_symlink():
        entry.unlink()
    if kind == "deep json":
        entry.write_text(deep_json(200_000))
    elif kind == "fifo":
        os.mkfifo(entry)
    elif kind == "link to /dev/zero":
        entry.symlink_to("/dev/zero")
    elif kind == "garbage":
        entry.write_bytes(os.urandom(4096))
    elif kind == "wrong shape":
        entry.write_text('{"digest": 1, "diagnostics": {"code": []}, "parsed": "x"}')
    elif kind == "huge":
        with open(entry, "wb") as handle:
            handle.truncate(64 * 2**20)  # sparse: costs no disk


KINDS = ["deep json", "fifo", "link to /dev/zero", "garbage", "wrong shape", "huge"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path, kind):
    settings = Settings()
    cache = ResultCache(tmp_path / "cache", settings)
    source = write(tmp_path / "model.py", AXIS_MODEL)
    entry = cache.entry_path(source)
    plant(kind, entry)
    started = time.monotonic()
    assert cache.get(source, "digest") is None
    assert time.monotonic() - started < 5
    finding = Diagnostic("BN001", "axis-mismatch", "m", str(source), 1, 1, 1, 1, Severity.ERROR)
    cache.put(source, "digest", [finding], True)
    assert entry.is_file() and not entry.is_symlink()
    assert cache.get(source, "digest") == ([Diagnostic("BN001", "axis-mismatch", "m", str(source), 1, 1, 1, 1,
                                                       Severity.ERROR)], True, {})


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["deep json", "fifo", "link to /dev/zero"])
def test_every_later_run_works_after_the_damage(tmp_path, kind):
    write(tmp_path / "model.py", AXIS_MODEL)
    first = bnlint("model.py", cwd=tmp_path)
    assert first.returncode == 1
    [entry] = [p for p in (tmp_path / ".bnlint_cache").rglob("*.json")]
    plant(kind, entry)
    for _ in range(2):
        run = bnlint("model.py", cwd=tmp_path)
        assert run.returncode == 1 and "BN001" in run.stdout and not run.stderr, run.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_place_of_the_cache_tag_does_not_block(tmp_path):
    settings = Settings()
    cache = ResultCache(tmp_path / "cache", settings)
    (tmp_path / "cache").mkdir()
    os.mkfifo(tmp_path / "cache" / ".gitignore")
    source = write(tmp_path / "model.py", AXIS_MODEL)
    cache.put(source, "digest", [], True)
    assert cache.get(source, "digest") == ([], True, {})
