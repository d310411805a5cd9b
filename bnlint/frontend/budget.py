"""How much time and memory one file's analysis may take, and whether a budget cut it short.

The interpreter traces helpers, loops and branches abstractly; a file can be
written so that this takes minutes (deep helper fan-out, huge unrolled loops).
Every file therefore runs under a wall-clock and a memory budget, on top of the
interpreter's per-entry step and node budgets. When any of them stops an
entry early, the entry keeps what it traced so far and the budget records
why, so the engine can say on that file that findings may be missing instead
of reporting a clean file it never finished reading.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Seconds one file's analysis (all of its entries together) may take.
FILE_SECONDS = 20.0
# Memory one file's analysis may add to the process, on top of what it held when the file began.
FILE_MEMORY_BYTES = 2 * 2**30


class FileBudget:
    def __init__(self, seconds: float, memory: int = FILE_MEMORY_BYTES) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.memory_limit = _resident_bytes() + memory
        self.memory = memory
        self.cut_short: list[str] = []  # one reason per entry that a budget stopped

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def exceeded(self) -> str | None:
        """Why the analysis must stop now (time or memory), or None."""
        if self.expired():
            return f"more than {self.seconds:g} s"
        if _resident_bytes() > self.memory_limit:
            return f"more than {self.memory / 2**30:g} GiB of memory"
        return None

    def record(self, entry: str, reason: str) -> None:
        self.cut_short.append(f"{entry}: {reason}")


_current: ContextVar[FileBudget | None] = ContextVar("bnlint_file_budget", default=None)


def current() -> FileBudget | None:
    """The budget of the file being analysed, or None outside ``file_budget``."""
    return _current.get()


@contextmanager
def file_budget(seconds: float | None = None) -> Iterator[FileBudget]:
    """Analyse one file under ``seconds`` (default FILE_SECONDS); a nested call keeps the outer, earlier deadline."""
    outer = _current.get()
    budget = FileBudget(FILE_SECONDS if seconds is None else seconds, FILE_MEMORY_BYTES)
    if outer is not None and outer.deadline < budget.deadline:
        budget.deadline = outer.deadline
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
        if outer is not None:
            outer.cut_short.extend(budget.cut_short)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int:
    """The process's resident memory now (Linux: ``/proc/self/statm``); 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0
