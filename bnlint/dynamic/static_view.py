"""The static layer graph of a file, indexed by source position, to meet the built layers there.

A built layer knows the line and column of the call that constructed it; a
static node knows the same through its origin. This view parses the file again
(milliseconds, against the seconds of a build), builds the same graphs the
static run did, and keys their nodes and the tensor edges between them by that
position. An implicit activation node shares its layer's origin, so it folds
into its layer here, as it does in a built model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint.config import Settings
from bnlint.frontend import build_graphs
from bnlint.graph import DataFormat, LayerGraph, LayerNode

Site = tuple[int, int]  # 1-based line and column of a construction call


@dataclass
class StaticView:
    nodes: dict[Site, list[LayerNode]] = field(default_factory=dict)
    # Each static edge between two placed layers, as lines (built positions may lack a column).
    line_edges: set[tuple[int, int]] = field(default_factory=set)
    # The layers an edge's argument expression (a skip connection, say) feeds, keyed by its position.
    argument_targets: dict[Site, list[Site]] = field(default_factory=dict)
    _site_of: dict[int, Site] = field(default_factory=dict)

    def site(self, node: LayerNode) -> Site | None:
        return self._site_of.get(id(node))

    def bn_nodes(self, line: int, column: int | None) -> list[LayerNode]:
        return [n for n in self.at(line, column) if n.op == "BatchNormalization"]

    def at(self, line: int, column: int | None) -> list[LayerNode]:
        """The nodes constructed at this position; by line alone when the column is unknown."""
        if column is not None:
            return list(self.nodes.get((line, column), []))
        return [n for (l, _), nodes in self.nodes.items() if l == line for n in nodes]

    def neighbourhood(self, lines: set[int]) -> set[tuple[int, int]]:
        """The static edges that touch these lines or a line next to them: what a topology finding rests on."""
        near = set(lines)
        near |= {b for a, b in self.line_edges if a in lines} | {a for a, b in self.line_edges if b in lines}
        return {(a, b) for a, b in self.line_edges if a in near or b in near}


def static_view(data: bytes, settings: Settings) -> StaticView | None:
    """The view of a file's static graphs, or None when it does not parse."""
    try:
        module = cst.parse_module(data)
    except (cst.ParserSyntaxError, UnicodeDecodeError, LookupError, SyntaxError):
        return None
    source = data.decode(module.encoding, errors="replace")
    data_format = DataFormat.parse(settings.image_data_format) if settings.image_data_format else None
    graphs = build_graphs(module, data_format, source)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    view = StaticView()
    for graph in graphs:
        _add(view, graph, positions)
    return view


def _add(view: StaticView, graph: LayerGraph, positions: object) -> None:
    def place(origin: object) -> Site | None:
        where = positions.get(origin) if origin is not None else None  # type: ignore[attr-defined]
        return (where.start.line, where.start.column + 1) if where is not None else None

    for node in graph.nodes:
        site = place(node.origin)
        if site is None:
            continue
        view._site_of[id(node)] = site
        if node not in view.nodes.setdefault(site, []):
            view.nodes[site].append(node)
    for edge in graph.edges:
        source, target = view.site(graph.node(edge.source)), view.site(graph.node(edge.target))
        if source is not None and target is not None and source[0] != target[0]:
            view.line_edges.add((source[0], target[0]))
        argument = place(edge.origin)
        if argument is not None and target is not None:
            view.argument_targets.setdefault(argument, []).append(target)
