"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps, IDE viewers)."""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bnlint.diagnostics import Diagnostic, Severity
from bnlint.fix_preview import REPLACEMENT, LineReplacement
from bnlint.output import RenderContext, RuleInfo, rule_catalog

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
ROOT = "%SRCROOT%"


def descriptor(rule: RuleInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "defaultConfiguration": {"level": LEVEL[rule.severity], "enabled": rule.enabled_by_default},
        "properties": {"fixSafety": rule.fix_safety},
    }
    if rule.documentation:
        entry["help"] = {"text": rule.documentation, "markdown": rule.documentation}
    return entry


def _location(d: Diagnostic, context: RenderContext) -> dict[str, Any]:
    return _physical(d.path, (d.line, d.column, d.end_line, d.end_column), context)


def _physical(path: str, span: tuple[int, int, int, int], context: RenderContext) -> dict[str, Any]:
    relative = context.relative(path)
    if Path(relative).is_absolute():
        artifact = {"uri": Path(relative).as_uri()}
    else:
        artifact = {"uri": quote(relative), "uriBaseId": ROOT}
    line, column, end_line, end_column = span
    region = {"startLine": line, "startColumn": column}
    if (end_line, end_column) > (line, column):
        region.update(endLine=end_line, endColumn=end_column)
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def _related(d: Diagnostic, context: RenderContext) -> list[dict[str, Any]]:
    """The other layers the finding is about (the BN a Dropout feeds, a stage's downsampling)."""
    return [{"id": i, **_physical(d.path, (r.line, r.column, r.end_line, r.end_column), context),
             "message": {"text": r.description}} for i, r in enumerate(d.related)]


def _fixes(d: Diagnostic, context: RenderContext) -> list[dict[str, Any]]:
    """The finding's own fix as a SARIF fix: whole lines deleted and the new ones inserted."""
    replacement = LineReplacement.from_extra(d.extra.get(REPLACEMENT))
    # A notebook's lines count per cell, not in the file a SARIF consumer would edit: no fix to offer there.
    if d.fix is None or replacement is None or "fix_refused" in d.extra or "cell" in d.extra:
        return []
    location = _physical(d.path, (replacement.start, 1, replacement.start, 1), context)["physicalLocation"]
    deleted = {"startLine": replacement.start, "startColumn": 1, "endLine": replacement.end, "endColumn": 1}
    return [{"description": {"text": f"{d.fix.title} ({d.fix.applicability.value} fix)"},
             "artifactChanges": [{"artifactLocation": location["artifactLocation"],
                                  "replacements": [{"deletedRegion": deleted,
                                                    "insertedContent": {"text": replacement.text}}]}]}]


def document(diagnostics: Sequence[Diagnostic], context: RenderContext) -> dict[str, Any]:
    rules = list(context.rules or rule_catalog())
    known = {rule.code for rule in rules}
    for d in diagnostics:  # a code missing from the catalog still needs a descriptor
        if d.code not in known:
            known.add(d.code)
            rules.append(RuleInfo(d.code, d.name, d.name, d.severity))
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [_location(d, context)],
        }
        if d.related:
            result["relatedLocations"] = _related(d, context)
        if d.fix is not None:
            result["properties"] = {"fix": {"title": d.fix.title, "applicability": d.fix.applicability.value}}
            fixes = _fixes(d, context)
            if fixes:
                result["fixes"] = fixes
        if "cell" in d.extra:  # a notebook finding: the region's lines count within this cell
            result.setdefault("properties", {})["cell"] = d.extra["cell"]
        results.append(result)
    root = Path(os.path.abspath(context.root)).as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bnlint",
                "informationUri": "https://pypi.org/project/bnlint/",
                **({"version": context.version} if context.version else {}),
                "rules": [descriptor(rule) for rule in rules],
            }},
            "originalUriBaseIds": {ROOT: {"uri": root}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    return json.dumps(document(diagnostics, context or RenderContext()), indent=2) + "\n"
