"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps, IDE viewers)."""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bnlint.diagnostics import Diagnostic, Severity
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
    relative = context.relative(d.path)
    if Path(relative).is_absolute():
        artifact = {"uri": Path(relative).as_uri()}
    else:
        artifact = {"uri": quote(relative), "uriBaseId": ROOT}
    region = {"startLine": d.line, "startColumn": d.column}
    if (d.end_line, d.end_column) > (d.line, d.column):
        region.update(endLine=d.end_line, endColumn=d.end_column)
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


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
        if d.fix is not None:
            result["properties"] = {"fix": {"title": d.fix.title, "applicability": d.fix.applicability.value}}
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
