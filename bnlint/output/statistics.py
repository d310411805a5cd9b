"""``--statistics``: how many findings of each code, most frequent first."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic
from bnlint.output import SEVERITY_COLOR, RenderContext, paint


def counts(diagnostics: Sequence[Diagnostic]) -> list[tuple[str, str, int]]:
    names = {d.code: d.name for d in diagnostics}
    tally = Counter(d.code for d in diagnostics)
    return sorted(((code, names[code], n) for code, n in tally.items()), key=lambda row: (-row[2], row[0]))


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    color = context.color if context else False
    rows = counts(diagnostics)
    if not rows:
        return "All checks passed!\n"
    severity = {d.code: d.severity for d in diagnostics}
    code_w = max(len(code) for code, _, _ in rows)
    name_w = max(len(name) for _, name, _ in rows)
    count_w = max(len(str(n)) for _, _, n in rows)
    lines = [f"{paint(code.ljust(code_w), SEVERITY_COLOR[severity[code]] + '+bold', color)}  "
             f"{name.ljust(name_w)}  {str(n).rjust(count_w)}" for code, name, n in rows]
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    rows = [{"code": code, "name": name, "count": n} for code, name, n in counts(diagnostics)]
    return json.dumps(rows, indent=2) + "\n"
