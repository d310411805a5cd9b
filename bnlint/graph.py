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

import dataclasses
import enum
import functools
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from typing import Any

from bnlint import ops
from bnlint.ops import Family
from bnlint.training import TrainingFacts


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
    expression: str = ""  # the argument's source text (for a known value: when it is a name or literal)
    # The names the value came through: the argument's own (``batch_norm_epsilon`` for
    # ``self.batch_norm_epsilon``), then, through helper parameters and attributes, the
    # names it was bound from at each call site. Kept for known values too.
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, constant: Any, expression: str = "", names: tuple[str, ...] = ()) -> Value:
        return cls(True, constant, expression, names)

    @classmethod
    def unknown(cls, expression: str, names: tuple[str, ...] = ()) -> Value:
        return cls(False, None, expression, names)


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
    # For a BN layer: the names bound where it was constructed (locals, ``self.<attr>``),
    # so that a rule can tell whether a differently named value was at hand.
    scope_names: Container[str] = frozenset()
    # For an Input: it stands for the states an RNN cell's ``call`` receives from the
    # previous time step (its label is the parameter's name).
    recurrent_state: bool = False

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

    # Whether the file loads trained weights, asked only when a shape-changing fix is
    # planned: the answer walks every call of the module, and most files have no such fix.
    weights_check: Callable[[], bool] | None = field(default=None, repr=False, compare=False)
    # BN layers constructed but applied in no graph (kept in a dict, built in ``build()``
    # for a ``call`` the frontend cannot follow): a rule about a layer's own arguments
    # still judges them. Their ``id`` is -1 and they have no edges.
    unapplied_layers: list[LayerNode] = field(default_factory=list)
    # What the module's training code does around its models (bnlint.training).
    training: TrainingFacts = field(default_factory=TrainingFacts)
    # An import path that only Keras releases before 2.9 have (``keras.layers.recurrent``,
    # ``keras.layers.embeddings``), or TensorFlow's own old copy of Keras
    # (``tensorflow.python.keras``): the code is written for such a Keras. Empty when the
    # imports do not tell.
    old_keras_import: str = ""

    @functools.cached_property
    def loads_pretrained_weights(self) -> bool:
        return self.weights_check is not None and bool(self.weights_check())


@dataclass
class LayerGraph:
    name: str
    # The function, class or method whose trace built it ("<module>" for the module body):
    # module facts about training code tie to models through it.
    entry: str = ""
    # A helper's own trace, kept beside its callers' for the BN layers only it reaches (a
    # branch every caller's arguments decide the other way): findings on layers a caller's
    # graph holds come from that graph alone.
    supplementary: bool = False
    # The model the graph is, when the code builds one: its ``name=``, else the function that
    # builds it (``keras.Model(...)``, a ``Sequential``), or the ``keras.Model`` subclass. Empty
    # for a block traced on its own: a helper function, a ``keras.layers.Layer`` subclass.
    model: str = ""
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

    def subgraph(self, name: str, node_ids: set[int], outputs: set[int]) -> LayerGraph:
        """The graph of ``node_ids`` alone, renumbered, with the edges among them.

        Nodes are copied, so a rule reading one model never sees another's layers;
        their origin handles stay the same objects, so findings still point at the source.
        """
        part = LayerGraph(name, entry=self.entry, model=self.model, facts=self.facts)
        renumber: dict[int, int] = {}
        for node in self.nodes:
            if node.id in node_ids:
                renumber[node.id] = len(part.nodes)
                part.nodes.append(dataclasses.replace(node, id=renumber[node.id]))
        for node in part.nodes:
            if node.owner is not None:
                node.owner = renumber.get(node.owner)
        for edge in self.edges:
            if edge.source in renumber and edge.target in renumber:
                part.connect(renumber[edge.source], renumber[edge.target], edge.slot, edge.origin)
        part.outputs = {renumber[n] for n in outputs if n in renumber}
        return part

    def ancestors(self, node_ids: set[int], stop: frozenset[int] | set[int] = frozenset()) -> set[int]:
        """``node_ids`` and every node upstream of them, not going past the nodes in ``stop``."""
        found: set[int] = set()
        stack = list(node_ids)
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            if current not in stop:
                stack.extend(e.source for e in self._pred.get(current, ()))
        return found
