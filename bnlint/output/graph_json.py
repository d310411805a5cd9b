"""``bnlint graph --format json``: the layer graphs as data, in the stable schema of docs/graph-json.md."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bnlint.graph_report import FileReport, FindingReport, GraphReport, NodeReport

SCHEMA_VERSION = 1


def render(reports: Sequence[FileReport]) -> str:
    document = {"version": SCHEMA_VERSION, "files": [file_dict(report) for report in reports]}
    return json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"


def file_dict(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "parsed": report.parsed,
        "graphs": [_graph(graph) for graph in report.graphs],
        "unapplied": [_node(node) for node in report.unapplied],
        "findings": [_finding(finding) for finding in report.findings],
    }


def _graph(graph: GraphReport) -> dict[str, Any]:
    return {
        "name": graph.name,
        "nodes": [_node(node) for node in graph.nodes],
        "edges": [{"source": e.source, "target": e.target, "slot": e.slot} for e in graph.edges],
        "outputs": graph.outputs,
    }


def _node(node: NodeReport) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": node.id,
        "op": node.op,
        "label": node.label,
        "line": node.line,
        "column": node.column,
        "end_line": node.end_line,
        "end_column": node.end_column,
        "args": {a.name: {"value": a.value, "known": a.known, "expression": a.expression} for a in node.args},
        "data_format": node.data_format,
        "rank": node.rank,
        "channel_axis": node.channel_axis,
        "implicit": node.implicit,
        "conditional": node.conditional,
        "owner": node.owner,
        "findings": [_finding(finding) for finding in node.findings],
    }
    if node.cell is not None:
        entry["cell"] = node.cell
    return entry


def _finding(finding: FindingReport) -> dict[str, Any]:
    return {"code": finding.code, "severity": finding.severity, "message": finding.message,
            "line": finding.line, "column": finding.column}
