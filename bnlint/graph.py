"""The layer graph: the one model of a network that every rule reads.

Frontends turn each way of writing a Keras model (Sequential lists, ``model.add``
chains, the functional API, helper functions, subclassed models) into this
graph; rules walk it and never see LibCST. A node is one *application* of a
layer to tensors; an edge is a tensor flowing from one application into a
numbered input slot of another.

Nodes carry ``origin`` handles (the source nodes they came from) that only the
engine and the fixer look inside: rules pass them on, opaquely, as the place a
finding is reported or an edit applies.
"""
from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bnlint import ops
from bnlint.ops import Family


class DataFormat(enum.Enum):
    CHANNELS_LAST = "channels_last"
    CHANNELS_FIRST = "channels_first"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: object) -> DataFormat:
        if text == "channels_first":
            return cls.CHANNELS_FIRST
        if text == "channels_last":
            return cls.CHANNELS_LAST
        return cls.UNKNOWN


@dataclass(frozen=True)
class Value:
    """A layer argument: a constant the frontend evaluated, or an expression it could not.

    A rule reads ``constant`` only when ``known`` is true: an unknown value is
    never guessed at.
    """

    known: bool
    constant: Any = None
    expression: str = ""

    @classmethod
    def of(cls, constant: Any, expression: str = "") -> Value:
        return cls(True, constant, expression)

    @classmethod
    def unknown(cls, expression: str) -> Value:
        return cls(False, None, expression)


@dataclass(frozen=True)
class Edge:
    source: int
    target: int
    slot: int  # position of the tensor among the target's inputs
    origin: Any = None  # the argument expression that carried the tensor


@dataclass
class LayerNode:
    id: int
    op: str  # canonical op name (see bnlint.ops)
    args: dict[str, Value] = field(default_factory=dict)
    data_format: DataFormat = DataFormat.CHANNELS_LAST
    # Where the layer was constructed (a finding about the layer goes there).
    origin: Any = None
    # The statement that applies the layer, and how it was written
    # ("sequential-list", "model-add", "functional", "subclass"); the fixer uses both.
    site: Any = None
    style: str = "functional"
    # True for the activation node that an ``activation=`` argument implies.
    implicit: bool = False
    # True when the node sits in a branch whose condition the frontend could not decide.
    conditional: bool = False
    # Rank of the output tensor (batch axis included) when the frontend knows it.
    rank: int | None = None
    # For an implicit activation: the node whose ``activation=`` it came from.
    owner: int | None = None
    label: str = ""  # the layer's source spelling, for messages
    # True when the call spreads ``*args``/``**kwargs`` the frontend could not expand:
    # an argument absent from ``args`` may still be set.
    unknown_kwargs: bool = False

    @property
    def family(self) -> Family:
        return ops.family(self.op)

    def arg(self, name: str) -> Value | None:
        return self.args.get(name)

    def known(self, name: str, default: Any = None) -> Any:
        """The argument's constant, ``default`` when absent, or None when unknown."""
        value = self.args.get(name)
        if value is None:
            return None if self.unknown_kwargs else default
        return value.constant if value.known else None

    def is_unknown(self, name: str) -> bool:
        """True when the argument may have a value the frontend could not evaluate."""
        value = self.args.get(name)
        return not value.known if value is not None else self.unknown_kwargs


@dataclass
class ModuleFacts:
    """What a rule may need to know about the whole file, not one model."""

    loads_pretrained_weights: bool = False


@dataclass
class LayerGraph:
    name: str
    nodes: list[LayerNode] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    outputs: set[int] = field(default_factory=set)
    facts: ModuleFacts = field(default_factory=ModuleFacts)
    _succ: dict[int, list[Edge]] = field(default_factory=dict, repr=False)
    _pred: dict[int, list[Edge]] = field(default_factory=dict, repr=False)

    def add_node(self, op: str, **fields: Any) -> LayerNode:
        node = LayerNode(id=len(self.nodes), op=op, **fields)
        self.nodes.append(node)
        return node

    def connect(self, source: int, target: int, slot: int, origin: Any = None) -> None:
        edge = Edge(source, target, slot, origin)
        if edge in self._pred.get(target, ()):
            return
        self.edges.append(edge)
        self._succ.setdefault(source, []).append(edge)
        self._pred.setdefault(target, []).append(edge)

    def node(self, node_id: int) -> LayerNode:
        return self.nodes[node_id]

    def successors(self, node: LayerNode) -> list[LayerNode]:
        return [self.nodes[e.target] for e in self._succ.get(node.id, ())]

    def predecessors(self, node: LayerNode) -> list[LayerNode]:
        return [self.nodes[e.source] for e in self._pred.get(node.id, ())]

    def in_edges(self, node: LayerNode) -> list[Edge]:
        return list(self._pred.get(node.id, ()))

    def out_edges(self, node: LayerNode) -> list[Edge]:
        return list(self._succ.get(node.id, ()))

    def by_op(self, *op_names: str) -> Iterator[LayerNode]:
        return (n for n in self.nodes if n.op in op_names)

    def by_family(self, *families: Family) -> Iterator[LayerNode]:
        return (n for n in self.nodes if n.family in families)

    def is_output(self, node: LayerNode) -> bool:
        return node.id in self.outputs
