"""What rules report and what the engine hands to renderers."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """One change to the source, named by what it does to the model, not by text.

    ``target`` is the origin handle of a graph node (or of an argument inside a
    call); the fixer alone turns it into a LibCST change.
    """

    kind: str  # set-keyword | remove-keyword | insert-layer-after | retap-argument | move-layer-after
    target: Any
    keyword: str | None = None
    value: str | None = None  # source text of the new value or layer
    anchor: Any = None  # a second node the edit refers to (where to insert, what to retap)

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in (("kind", self.kind), ("keyword", self.keyword), ("value", self.value)) if v is not None}


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]


@dataclass
class Finding:
    """A rule's report about one place in the graph."""

    anchor: Any  # origin handle of the node or argument the finding is reported at
    message: str
    severity: Severity | None = None  # None: the rule's default
    fix: Fix | None = None


@dataclass
class Diagnostic:
    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    fix: Fix | None = None
    dynamic: str | None = None  # None, "confirmed" or "refuted"
    extra: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


# Codes for problems with a file itself rather than with a model in it.
PARSE_ERROR = ("E999", "syntax-error")
IO_ERROR = ("E902", "io-error")
