"""What rules report and what the engine hands to renderers."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple


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

    # set-keyword | remove-keyword | insert-layer-after | split-activation | move-layer-after | remove-layer
    # | retap-argument | replace-layer. The layer edits (insert, split, move, remove) are written in the
    # file's own style (a list element, a ``model.add`` line, ``x = Layer()(x)``, a ``self.<name>``
    # attribute); replace-layer constructs the Keras class ``value`` in the same call instead.
    kind: str
    target: Any
    keyword: str | None = None
    value: str | None = None  # source text of the new value or layer
    # A second node the edit refers to: where a moved layer or a split-out activation goes, what to retap.
    anchor: Any = None
    # insert-layer-after on a layer with an ``activation=`` argument: "before-activation" (the
    # default) splits the activation out into an ``Activation`` layer after the new one, so the
    # new layer sits between the layer and its activation; "after-activation" leaves the
    # activation where it is and puts the new layer after it.
    placement: str = "before-activation"

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in (("kind", self.kind), ("keyword", self.keyword), ("value", self.value)) if v is not None}


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]


@dataclass
class Finding:
    """A rule's report about one place in the graph.

    ``related`` names other layers the finding is about, as (origin handle,
    description) pairs. Rules never see positions, so the message refers to them
    by index (``{0}``, ``{1}``) and the engine writes each as its description
    with its line ("Conv2D (line 41)"), keeping the locations on the Diagnostic.
    """

    anchor: Any  # origin handle of the node or argument the finding is reported at
    message: str
    severity: Severity | None = None  # None: the rule's default
    fix: Fix | None = None
    related: tuple[tuple[Any, str], ...] = ()
    # The fix edits a layer written once and traced many times (a helper, a loop);
    # True when the rule has checked that the fix is right in every use in this
    # graph, not only in the ones the finding was reported for.
    fix_right_in_every_use: bool = False


class Related(NamedTuple):
    """A place a diagnostic refers to besides its own (the BN a Dropout feeds, the stage's downsampling)."""

    line: int
    column: int
    end_line: int
    end_column: int
    description: str


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
    related: list[Related] = field(default_factory=list)

    def sort_key(self) -> tuple[str, int, int, int, str]:
        # A notebook's lines count per cell: its findings sort by cell first.
        return (self.path, self.extra.get("cell", 0), self.line, self.column, self.code)


# Codes for problems with a file itself rather than with a model in it.
PARSE_ERROR = ("E999", "syntax-error")
IO_ERROR = ("E902", "io-error")
# bnlint itself failed on the file: the run exits 2, and the failure is a finding so a CI gate shows it.
INTERNAL_ERROR = ("E900", "internal-error")
# A time, step or size budget stopped the analysis of part of the file: findings there may be missing.
ANALYSIS_INCOMPLETE = ("E901", "analysis-incomplete")
# Codes of findings about a run's reading of a file, not about its content: never cached.
FILE_PROBLEM_CODES = frozenset({IO_ERROR[0], INTERNAL_ERROR[0], ANALYSIS_INCOMPLETE[0]})
