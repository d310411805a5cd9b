"""What a rule that only a build can check looks like: documented like any rule, silent without --dynamic."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.config import Settings
from bnlint.diagnostics import Finding
from bnlint.graph import LayerGraph
from bnlint.rule import Rule

NEEDS_DYNAMIC = """
## Needs `--dynamic`
This rule reads the shapes and layers of the model as Keras builds it, so only
`bnlint --dynamic` (extra `bnlint[dynamic]`) reports it: the file's code is
imported and its models built in a separate process. A static run never
reports it and never parses a file for it.
"""


class DynamicRule(Rule):
    """A rule whose findings come from ``bnlint.dynamic.verdicts``, never from the static graph."""

    dynamic_only = True
    tokens = ()

    def could_fire(self, data: bytes) -> bool:
        return False  # no static check: a file is never parsed for this rule

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        return iter(())

    def documentation(self) -> str:
        text = super().documentation()
        head, _, rest = text.partition("\n## Example")
        return f"{head.rstrip()}\n{NEEDS_DYNAMIC}\n## Example{rest}"
