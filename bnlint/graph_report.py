"""What ``bnlint graph`` shows: each file's layer graphs as the lint built them, with the findings on their nodes.

The graphs are the real engine's (``lint_data(..., keep_syntax=True)``), so what
a user sees is exactly what the rules read, after the same prefilter, budget and
suppressions. Everything is turned into plain data here, in the process that
parsed the file: positions (LibCST's ``PositionProvider``, computed only for
this command, never on the lint's hot path), arguments, channel axes and
findings. The renderers (``bnlint.output.graph_*``) never see LibCST or a
``LayerGraph``, and a report crosses a process boundary as it is.

A finding is placed on the node whose construction call starts where the
finding starts (the rules anchor findings at a node's origin); a finding
anchored at an argument that carried a tensor (a U-Net skip) goes to the layer
that takes it; any other (a training-loop fact, a file problem) stays with the
file.
"""
from __future__ import annotations

import heapq
import math
import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint import api, notebook
from bnlint.analysis import channel_axis
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic
from bnlint.discovery import discover
from bnlint.graph import LayerGraph, LayerNode, Value
from bnlint.rule import Rule

# The arguments that decide what BN does or what it sees, in the order a listing shows them.
BN_ARGUMENTS = ("axis", "momentum", "epsilon", "center", "scale", "synchronized", "rate", "strides",
                "data_format", "activation", "use_bias")


@dataclass(frozen=True)
class ArgumentReport:
    """One layer argument: its constant when the frontend knew it, and the source text it was written as."""

    name: str
    known: bool
    value: Any  # JSON-ready: lists for tuples, a repr string for a constant JSON cannot hold; None when unknown
    expression: str


@dataclass(frozen=True)
class FindingReport:
    code: str
    severity: str
    message: str
    line: int
    column: int


@dataclass
class NodeReport:
    id: int
    op: str
    label: str
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    args: list[ArgumentReport]
    data_format: str
    rank: int | None
    channel_axis: int | None  # of a BN's input, when the graph knows it
    implicit: bool
    conditional: bool
    owner: int | None
    cell: int | None = None  # a notebook's cell number; ``line`` then counts from the cell's first line
    findings: list[FindingReport] = field(default_factory=list)

    def argument(self, name: str) -> ArgumentReport | None:
        return next((a for a in self.args if a.name == name), None)


@dataclass(frozen=True)
class EdgeReport:
    source: int
    target: int
    slot: int


@dataclass
class GraphReport:
    name: str
    nodes: list[NodeReport]
    edges: list[EdgeReport]
    outputs: list[int]

    def inputs_of(self, node_id: int) -> list[EdgeReport]:
        return sorted((e for e in self.edges if e.target == node_id), key=lambda e: (e.slot, e.source))

    def data_flow_order(self) -> list[NodeReport]:
        """The nodes in topological order, the lowest id first among the ready ones (deterministic)."""
        waiting = {n.id: 0 for n in self.nodes}
        successors: dict[int, list[int]] = {}
        for edge in self.edges:
            waiting[edge.target] += 1
            successors.setdefault(edge.source, []).append(edge.target)
        by_id = {n.id: n for n in self.nodes}
        ready = [i for i, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[NodeReport] = []
        while ready:
            current = heapq.heappop(ready)
            order.append(by_id[current])
            for target in successors.get(current, ()):
                waiting[target] -= 1
                if waiting[target] == 0:
                    heapq.heappush(ready, target)
        placed = {n.id for n in order}
        order += [n for n in self.nodes if n.id not in placed]  # a cycle (loop-carried flow): keep every node
        return order


@dataclass
class FileReport:
    path: str
    parsed: bool
    graphs: list[GraphReport] = field(default_factory=list)
    # BN layers the file builds that no graph applies: the argument rules still judge them.
    unapplied: list[NodeReport] = field(default_factory=list)
    findings: list[FindingReport] = field(default_factory=list)  # findings on no node
    error: str | None = None  # an internal failure: reported on stderr, exit code 2


def report_paths(paths: Iterable[str], settings: Settings, rules: list[Rule], jobs: int = 1) -> Iterator[FileReport]:
    """The report of every file under ``paths``, in discovery order whatever ``jobs`` is."""
    files = list(discover(list(paths), exclude=settings.exclude_patterns(), force_exclude=settings.force_exclude))
    if jobs <= 1 or len(files) < 2:
        for path in files:
            yield report_file(path, settings, rules)
        return
    yield from _report_in_pool(files, settings, jobs)


def report_file(path: Path, settings: Settings, rules: list[Rule]) -> FileReport:
    data = api.read_source(path, settings)
    if isinstance(data, api.FileResult):
        return FileReport(str(path), False, findings=[_finding(d) for d in data.diagnostics])
    result = api.lint_data(str(path), data, settings, rules, keep_syntax=True)
    try:
        return describe(result, data)
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the run
        failed = api.internal_error_result(str(path), "describing its graphs", error)
        return FileReport(str(path), result.parsed, findings=[_finding(d) for d in failed.diagnostics],
                          error=failed.error)


def describe(result: api.FileResult, data: bytes) -> FileReport:
    """``result`` (linted with ``keep_syntax``) as plain data: its graphs, their positions and findings."""
    report = FileReport(result.path, result.parsed, error=result.error)
    if result.syntax is None:
        report.findings = [_finding(d) for d in result.diagnostics]
        return report
    module, graphs = result.syntax
    place = _Placer(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider),
                    notebook.Notebook.parse(data) if notebook.is_notebook(result.path) else None)
    origin_nodes: list[tuple[Any, NodeReport]] = []
    edge_targets: list[tuple[Any, NodeReport]] = []
    for graph in graphs:
        if not graph.nodes:
            continue  # the placeholder a module without models gets, for its argument and training rules
        nodes = [_node(graph, node, place) for node in graph.nodes]
        origin_nodes += [(node.origin, reported) for node, reported in zip(graph.nodes, nodes) if not node.implicit]
        edge_targets += [(edge.origin, nodes[edge.target]) for edge in graph.edges if edge.origin is not None]
        report.graphs.append(GraphReport(
            graph.name, nodes, [EdgeReport(e.source, e.target, e.slot) for e in graph.edges], sorted(graph.outputs)))
    if graphs:
        report.unapplied = [_node(None, node, place) for node in graphs[0].facts.unapplied_layers]
        origin_nodes += [(node.origin, reported) for node, reported in
                         zip(graphs[0].facts.unapplied_layers, report.unapplied)]
    _place_findings(result.diagnostics, report, place, origin_nodes, edge_targets)
    return report


class _Placer:
    """Where a source node is, as findings count it: 1-based columns, and cell lines in a notebook."""

    def __init__(self, positions: Any, book: notebook.Notebook | None) -> None:
        self.positions = positions
        self.book = book

    def span(self, origin: Any) -> tuple[int | None, int | None, int | None, int | None, int | None]:
        """(cell, line, column, end_line, end_column); Nones when the node has no position."""
        where = self.positions.get(origin) if origin is not None else None
        if where is None:
            return None, None, None, None, None
        line, end_line = where.start.line, where.end.line
        cell = self.book.cell_at(line) if self.book is not None else None
        if cell is None:
            return None, line, where.start.column + 1, end_line, where.end.column + 1
        return cell.number, line - cell.first_line + 1, where.start.column + 1, end_line - cell.first_line + 1, \
            where.end.column + 1

    def start(self, origin: Any) -> tuple[int | None, int | None, int | None]:
        cell, line, column, _, _ = self.span(origin)
        return cell, line, column


def _node(graph: LayerGraph | None, node: LayerNode, place: _Placer) -> NodeReport:
    cell, line, column, end_line, end_column = place.span(node.origin)
    axis = channel_axis(graph, node) if graph is not None and node.op == "BatchNormalization" else None
    return NodeReport(
        id=node.id, op=node.op, label=node.label or node.op, line=line, column=column, end_line=end_line,
        end_column=end_column, args=[_argument(name, value) for name, value in sorted(node.args.items())],
        data_format=node.data_format.value, rank=node.rank, channel_axis=axis.index if axis is not None else None,
        implicit=node.implicit, conditional=node.conditional, owner=node.owner, cell=cell,
    )


def _argument(name: str, value: Value) -> ArgumentReport:
    return ArgumentReport(name, value.known, _json_ready(value.constant) if value.known else None, value.expression)


def _json_ready(constant: Any) -> Any:
    """``constant`` as JSON can hold it; anything else (a function, NaN) as its repr, so output never fails."""
    if constant is None or isinstance(constant, (bool, int, str)):
        return constant
    if isinstance(constant, float):
        return constant if math.isfinite(constant) else repr(constant)
    if isinstance(constant, (list, tuple)):
        return [_json_ready(item) for item in constant]
    return repr(constant)


def _finding(diagnostic: Diagnostic) -> FindingReport:
    return FindingReport(diagnostic.code, diagnostic.severity.label, diagnostic.message, diagnostic.line,
                         diagnostic.column)


def _place_findings(diagnostics: list[Diagnostic], report: FileReport, place: _Placer,
                    origin_nodes: list[tuple[Any, NodeReport]], edge_targets: list[tuple[Any, NodeReport]]) -> None:
    """Each finding onto every node (every use of a traced layer) it is about, else onto the file."""
    at_node: dict[tuple[int | None, int | None, int | None], list[NodeReport]] = {}
    for origin, node in origin_nodes:
        at_node.setdefault(place.start(origin), []).append(node)
    at_edge: dict[tuple[int | None, int | None, int | None], list[NodeReport]] = {}
    for origin, node in edge_targets:
        at_edge.setdefault(place.start(origin), []).append(node)
    for diagnostic in diagnostics:
        key = (diagnostic.extra.get("cell"), diagnostic.line, diagnostic.column)
        nodes = at_node.get(key) or at_edge.get(key)
        if not nodes:
            report.findings.append(_finding(diagnostic))
            continue
        for node in {id(n): n for n in nodes}.values():
            node.findings.append(_finding(diagnostic))


def _report_in_pool(files: list[Path], settings: Settings, jobs: int) -> Iterator[FileReport]:
    workers = min(jobs, len(files))
    chunksize = max(1, min(16, len(files) // (workers * 8)))
    done = 0
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(settings,))
    try:
        for report in executor.map(_report_in_worker, files, chunksize=chunksize):
            done += 1
            yield report
    except BrokenProcessPool:
        # A worker died (a crash in native code): each unfinished file again in a process of its own.
        executor.shutdown(wait=True, cancel_futures=True)
        for path in files[done:]:
            yield _report_isolated(path, settings)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _report_isolated(path: Path, settings: Settings) -> FileReport:
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(settings,))
    try:
        return executor.submit(_report_in_worker, path).result()
    except BrokenProcessPool:
        message = "internal error while linting: the process linting this file crashed"
        diagnostic = api.internal_error_diagnostic(str(path), message)
        return FileReport(str(path), False, findings=[_finding(diagnostic)], error=message)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_worker_state: tuple[Settings, list[Rule]] | None = None


def _start_worker(settings: Settings) -> None:
    global _worker_state
    _worker_state = (settings, api.select_rules(settings))


def _report_in_worker(path: Path) -> FileReport:
    assert _worker_state is not None
    return report_file(path, *_worker_state)
