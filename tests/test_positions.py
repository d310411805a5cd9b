"""The engine's early-stopping positions are LibCST's ``PositionProvider`` positions."""
from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint.positions import positions_of

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


class _Every(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


def _nodes(module: cst.Module) -> list[cst.CSTNode]:
    every = _Every()
    module.visit(every)
    return every.nodes


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_node_is_placed_where_libcst_places_it(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = _nodes(module)
    placed = positions_of(module, nodes)
    assert [placed.get(node) for node in nodes] == [expected[node] for node in nodes]


def test_the_walk_stops_after_the_last_wanted_node() -> None:
    module = cst.parse_module(b"import keras\n\nx = keras.layers.BatchNormalization()\ny = 2\nz = 3\n")
    first_call = next(node for node in _nodes(module) if isinstance(node, cst.Call))
    placed = positions_of(module, [first_call])
    assert (placed[first_call].start.line, placed[first_call].start.column) == (3, 4)
    last = module.body[-1]
    assert placed.get(last) is None  # never written: the walk stopped before it
    assert positions_of(module, []) == {}
