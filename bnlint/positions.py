"""Line and column of the few nodes a run reports, without positioning the whole module.

LibCST finds a node's position by generating the module's code and counting lines
as it goes (``PositionProvider``). Doing that for every node of a file with
findings cost as much as parsing it. The findings need the positions of a handful
of nodes: this runs the same code generation, with the same position rules, and
stops as soon as the last of those nodes has been written. A node that is not in
the module gets no position, as with ``PositionProvider``.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState


class _AllPlaced(Exception):
    """Every wanted node has its position: the rest of the module need not be written."""


class _Positions:
    """What ``PositionProvidingCodegenState`` records into (its ``provider``), and what is still wanted."""

    def __init__(self, wanted: Collection[Any]) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}
        self.wanted = {id(node) for node in wanted if node is not None}
        self.left = len(self.wanted)


class _Recording:
    """One node's ``record_syntactic_position``: a plain context manager, since code generation
    opens one per node and a generator-based one costs several times as much."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _StoppingState, node: cst.CSTNode, start_node: cst.CSTNode | None,
                 end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = CodePosition(self.state.line, self.state.column)

    def __exit__(self, kind: object, error: object, traceback: object) -> bool:
        # LibCST's own records in a ``finally``; once the walk stops, the nodes still open
        # have no end, so nothing is recorded for them.
        if kind is None:
            state = self.state
            computed = state.provider._computed
            start = computed[self.start_node].start if self.start_node is not None else self.start
            end = computed[self.end_node].end if self.end_node is not None else CodePosition(state.line, state.column)
            computed[self.node] = CodeRange(start, end)
        return False


class _StoppingState(PositionProvidingCodegenState):
    __slots__ = ()

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> _Recording:
        return _Recording(self, node, start_node, end_node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        super().after_codegen(node)
        positions = self.provider
        if id(node) in positions.wanted:
            positions.left -= 1
            if positions.left <= 0:
                raise _AllPlaced


def positions_of(module: cst.Module, wanted: Collection[Any]) -> dict[cst.CSTNode, CodeRange]:
    """The syntactic positions (as ``PositionProvider`` gives them) of the nodes of ``module``
    written up to the last of ``wanted``; look ``wanted`` nodes up in it with ``.get``."""
    positions = _Positions(wanted)
    if not positions.left:
        return {}
    state = _StoppingState(default_indent=module.default_indent, default_newline=module.default_newline,
                           provider=positions)  # type: ignore[arg-type]
    try:
        module._codegen(state)
    except _AllPlaced:
        pass
    return positions._computed
