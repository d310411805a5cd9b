"""What every rule module provides: metadata, documentation, examples and a check."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph
from bnlint.prefilter import BN_TOKENS, in_code


@dataclass(frozen=True)
class Example:
    """A code sample from a rule's documentation; the test suite lints each one."""

    source: str
    expect: int  # how many findings of this rule the sample must produce


class Rule:
    code: str
    name: str
    summary: str
    severity: Severity
    enabled_by_default: bool = True
    fix_safety: str = "none"  # safe | unsafe | none
    # A file whose code (not its comments or docstrings) contains none of these cannot trigger the rule.
    tokens: tuple[bytes, ...] = BN_TOKENS
    # A layer written once may be traced several times (a helper called from many
    # places, a loop). A rule that says a layer's argument is redundant must hold in
    # every one of those uses, since the fix changes them all; a rule that reports a
    # defect holds as soon as one use shows it.
    requires_every_instance: bool = False
    doc: str  # What it does / Why is this bad? / Fix safety / References
    bad: Example
    good: Example

    def could_fire(self, data: bytes) -> bool:
        """The cheap text screen run before any parse: False means the file cannot trigger the rule."""
        return in_code(data, self.tokens)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        raise NotImplementedError

    def documentation(self) -> str:
        fix = {"safe": "safe fix", "unsafe": "unsafe fix", "none": "no fix"}[self.fix_safety]
        default = "on" if self.enabled_by_default else "off"
        header = f"# {self.name} ({self.code})\n\n{self.summary}\n\nSeverity: {self.severity.label} · default: {default} · {fix}\n"
        return (
            f"{header}\n{self.doc.strip()}\n\n## Example\n\n```python\n{self.bad.source.strip()}\n```\n\n"
            f"## Use instead\n\n```python\n{self.good.source.strip()}\n```\n"
        )
