"""How much time one file's analysis may take, and whether a budget cut it short.

The interpreter traces helpers, loops and branches abstractly; a file can be
written so that this takes minutes (deep helper fan-out, huge unrolled loops).
Every file therefore runs under a wall-clock budget, on top of the
interpreter's per-entry step and node budgets. When any of them stops an
entry early, the entry keeps what it traced so far and the budget records
why, so the engine can say on that file that findings may be missing instead
of reporting a clean file it never finished reading.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Seconds one file's analysis (all of its entries together) may take.
FILE_SECONDS = 20.0


class FileBudget:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.cut_short: list[str] = []  # one reason per entry that a budget stopped

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

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
    budget = FileBudget(FILE_SECONDS if seconds is None else seconds)
    if outer is not None and outer.deadline < budget.deadline:
        budget.deadline = outer.deadline
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
        if outer is not None:
            outer.cut_short.extend(budget.cut_short)
