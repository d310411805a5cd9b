"""``bnlint graph`` (text): each model as a ``model.summary()``-like listing, in data-flow order.

One row per layer application: its id, the layer as written (and its canonical
op when that differs), the line it was built on, the nodes feeding it, and the
arguments that matter to BN. An argument bnlint could not evaluate is shown as
``unknown(<its expression>)``: that is where a rule had to stay silent. The
findings on a layer follow its row.
"""
from __future__ import annotations

from collections.abc import Sequence

from bnlint.graph_report import (
    BN_ARGUMENTS,
    FileReport,
    FindingReport,
    GraphReport,
    NodeReport,
)


def render(reports: Sequence[FileReport]) -> str:
    return "".join(render_file(report) for report in reports)


def render_file(report: FileReport) -> str:
    lines = [report.path]
    if not report.graphs and not report.unapplied:
        lines.append(f"  no graph: {_why_no_graph(report)}")
    for graph in report.graphs:
        lines += _graph(graph)
    if report.unapplied:
        lines.append("  BN layers built but applied in no graph:")
        lines += _rows(report.unapplied, None)
    for finding in report.findings:
        lines.append(f"  {_finding(finding)} (line {finding.line})")
    return "\n".join(lines) + "\n\n"


def _why_no_graph(report: FileReport) -> str:
    if report.findings:
        return "the file was not analysed (see its findings)"
    if not report.parsed:
        return "not parsed (no enabled rule could fire on its text, or it is marked skip-file)"
    return "no model found"


def _graph(graph: GraphReport) -> list[str]:
    count = len(graph.nodes)
    outputs = ", ".join(map(str, graph.outputs)) or "none"
    lines = [f'  Model "{graph.name}": {count} layer{"s" if count != 1 else ""}, outputs: {outputs}']
    return lines + _rows(graph.data_flow_order(), graph)


def _rows(nodes: Sequence[NodeReport], graph: GraphReport | None) -> list[str]:
    table = [("id", "layer", "line", "inputs", "arguments")]
    for node in nodes:
        inputs = ", ".join(str(e.source) for e in graph.inputs_of(node.id)) if graph is not None else ""
        table.append((str(node.id), _layer(node), _line(node), inputs or "-", _arguments(node)))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = []
    for index, row in enumerate(table):
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].ljust(widths[3])]
        lines.append(("    " + "  ".join(cells) + "  " + row[4]).rstrip())
        if index:
            lines += [f"    {'':>{widths[0]}}  ! {_finding(f)}" for f in nodes[index - 1].findings]
    return lines


def _layer(node: NodeReport) -> str:
    name = node.label if node.label == node.op or node.label.endswith(f".{node.op}") else f"{node.label} ({node.op})"
    marks = [mark for mark, present in (("implicit", node.implicit), ("conditional", node.conditional)) if present]
    return f"{name} [{', '.join(marks)}]" if marks else name


def _line(node: NodeReport) -> str:
    if node.line is None:
        return "?"
    return f"cell {node.cell}:{node.line}" if node.cell is not None else str(node.line)


def _arguments(node: NodeReport) -> str:
    parts = []
    for name in BN_ARGUMENTS:
        argument = node.argument(name)
        if argument is None:
            continue
        shown = _constant(argument.value) if argument.known else f"unknown({argument.expression or '?'})"
        parts.append(f"{name}={shown}")
    if node.data_format != "channels_last" and node.argument("data_format") is None and node.op != "Input":
        parts.append(f"format={node.data_format}")
    if node.rank is not None:
        parts.append(f"rank={node.rank}")
    if node.op == "BatchNormalization":
        parts.append(f"channel_axis={node.channel_axis if node.channel_axis is not None else 'unknown'}")
    return " ".join(parts)


def _constant(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "(" + ", ".join(_constant(v) for v in value) + ")"
    return str(value)


def _finding(finding: FindingReport) -> str:
    """The code, severity and the message's first clause: the row says where, ``bnlint`` says the rest."""
    message = finding.message.split("; ")[0]
    return f"{finding.code} {finding.severity}: {message}"
