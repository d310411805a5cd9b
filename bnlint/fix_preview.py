"""A finding's own fix as the lines it replaces: what full output's diff, SARIF ``fixes[]`` and editors show.

The fixer computes it where the parsed tree is at hand (``fixer/single.py``) and
stores it in the finding's ``extra``, so it survives the cache and process
boundaries as plain data; renderers read it without importing the fixer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPLACEMENT = "fix_replacement"  # the key of a finding's extra that holds its LineReplacement


@dataclass(frozen=True)
class LineReplacement:
    """Lines ``start`` to ``end`` (1-based, ``end`` excluded) of the file become ``text``."""

    start: int
    end: int
    text: str
    removed: str  # the text of the replaced lines, for a diff

    def to_extra(self) -> list[Any]:
        return [self.start, self.end, self.text, self.removed]

    @classmethod
    def from_extra(cls, value: Any) -> LineReplacement | None:
        if not isinstance(value, list) or len(value) != 4:
            return None
        return cls(*value)


def line_replacement(before: str, after: str) -> LineReplacement:
    """The smallest run of whole lines that turns ``before`` into ``after``."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return LineReplacement(head + 1, len(old) - tail + 1, "".join(new[head:len(new) - tail]),
                           "".join(old[head:len(old) - tail]))
