"""``bnlint graph --format dot|svg|png``: the layer graphs as Graphviz, drawn the way ``plot_model`` users read them.

One ``digraph`` for the whole run, one cluster per model. Each kind of layer a
BN rule cares about has its own look (BN blue boxes, dropout dashed grey boxes,
activations yellow ellipses, merges purple trapezia, inputs green
parallelograms); a model output has a double border. A layer with a finding is
outlined in its severity's colour and names the codes. SVG and PNG are rendered
by Graphviz's own ``dot``, which must be on PATH.
"""
from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence

from bnlint.graph_report import BN_ARGUMENTS, FileReport, NodeReport
from bnlint.ops import Family, family

IMAGE_FORMATS = ("svg", "png")

_STYLE = {
    "bn": 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
    Family.DROPOUT: 'shape=box, style="dashed,filled", fillcolor="#eeeeee"',
    Family.ACTIVATION: 'shape=ellipse, style=filled, fillcolor="#fff3c4"',
    Family.MERGE: 'shape=invtrapezium, style=filled, fillcolor="#e4d7f5"',
    Family.INPUT: 'shape=parallelogram, style=filled, fillcolor="#d8f0d8"',
}
_DEFAULT_STYLE = 'shape=box, style=filled, fillcolor="#ffffff"'
_SEVERITY_COLOR = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4"}
_SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}


def render(reports: Sequence[FileReport]) -> str:
    lines = ["digraph bnlint {", '  graph [rankdir=TB, fontname="Helvetica", compound=true];',
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for file_index, report in enumerate(reports):
        for graph_index, graph in enumerate(report.graphs):
            prefix = f"f{file_index}g{graph_index}n"
            lines.append(f"  subgraph cluster_f{file_index}g{graph_index} {{")
            lines.append(f"    label={_quote(f'{report.path}: {graph.name}')}; labeljust=l; color=\"#999999\";")
            outputs = set(graph.outputs)
            for node in graph.nodes:
                lines.append(f"    {prefix}{node.id} [{_node_attributes(node, node.id in outputs)}];")
            fan_in = Counter(e.target for e in graph.edges)
            for edge in graph.edges:
                label = f" [label={_quote(f'in {edge.slot}')}]" if fan_in[edge.target] > 1 else ""
                lines.append(f"    {prefix}{edge.source} -> {prefix}{edge.target}{label};")
            lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def find_dot() -> str | None:
    return shutil.which("dot")


def missing_message(image_format: str) -> str:
    return f"--format {image_format} needs Graphviz's 'dot' on PATH (install graphviz, or use --format dot)"


def to_image(dot_source: str, image_format: str) -> bytes:
    """``dot_source`` rendered by Graphviz as ``svg`` or ``png``; ``dot`` must be on PATH (``find_dot``)."""
    program = find_dot()
    if program is None:
        raise RuntimeError(missing_message(image_format))
    done = subprocess.run([program, f"-T{image_format}"], input=dot_source.encode(), capture_output=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        problem = done.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"Graphviz's dot failed: {problem[0] if problem else f'exit {done.returncode}'}")
    return done.stdout


def _node_attributes(node: NodeReport, is_output: bool) -> str:
    kind = "bn" if node.op == "BatchNormalization" else family(node.op)
    style = _STYLE.get(kind, _DEFAULT_STYLE)
    if node.implicit:
        style = style.replace("style=filled", 'style="filled,dashed"')
    lines = [node.label if node.label == node.op else f"{node.label} ({node.op})"]
    where = f"line {node.line}" if node.line is not None else "no position"
    lines.append(f"cell {node.cell}, {where}" if node.cell is not None else where)
    lines += _argument_lines(node)
    if is_output:
        lines.append("output")
    codes = ", ".join(dict.fromkeys(f.code for f in node.findings))
    if codes:
        lines.append(codes)
    attributes = [f"label={_quote(chr(10).join(lines))}", style]
    if is_output:
        attributes.append("peripheries=2")
    if node.findings:
        worst = max(node.findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 0)).severity
        color = _SEVERITY_COLOR.get(worst, "#d62728")
        attributes += [f'color="{color}"', "penwidth=3", f'fontcolor="{color}"']
        attributes.append(f"tooltip={_quote(chr(10).join(f'{f.code}: {f.message}' for f in node.findings))}")
    return ", ".join(attributes)


def _argument_lines(node: NodeReport) -> list[str]:
    lines = []
    for name in BN_ARGUMENTS:
        argument = node.argument(name)
        if argument is not None:
            shown = str(argument.value) if argument.known else f"unknown({argument.expression or '?'})"
            lines.append(f"{name}={shown}")
    if node.op == "BatchNormalization":
        lines.append(f"channel axis {node.channel_axis if node.channel_axis is not None else 'unknown'}")
    return lines


def _quote(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, each line centred (``\\n``)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
