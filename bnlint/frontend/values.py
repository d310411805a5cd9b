"""Abstract values the frontend's interpreter computes for Python expressions.

The frontend does not run the user's code; it evaluates just enough of it to
know which layers are built, with which constant arguments, and how tensors
flow between them. Everything else is ``Unknown``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Container, Iterator
from typing import Any

import libcst as cst


class Unknown:
    """A value the frontend cannot know. Used as a tensor, it becomes a graph input."""

    __slots__ = ("expression", "tensor_node")

    def __init__(self, expression: str = "") -> None:
        self.expression = expression
        self.tensor_node: int | None = None

    def __repr__(self) -> str:
        return f"Unknown({self.expression!r})"


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Default(Const):
    """A parameter's default in a function analysed on its own, with no caller known.

    It is the value a rule sees (a BN ``momentum=0.1`` default is a finding), but
    a caller may pass any other, so a branch it alone decides runs both ways.
    """


@dataclass(frozen=True)
class Ref:
    """A dotted name outside this module (``keras.layers.Conv2D``, ``tensorflow``)."""

    qualname: str

    def attr(self, name: str) -> Ref:
        return Ref(f"{self.qualname}.{name}")


@dataclass(frozen=True)
class ProjectRef(Ref):
    """A name in another module of the linted file's project: traced when the code calls it."""

    def attr(self, name: str) -> Ref:
        return ProjectRef(f"{self.qualname}.{name}")


class GlobalDataFormat:
    """The result of ``image_data_format()``: the global format, whatever it is."""


GLOBAL_DATA_FORMAT = GlobalDataFormat()


class Weight:
    """A trainable variable (``add_weight``, ``tf.Variable``): a constant to the graph."""


WEIGHT = Weight()


@dataclass(frozen=True)
class Tensor:
    """A tensor produced by one of several graph nodes (several after an undecided ``if``)."""

    nodes: frozenset[int]


@dataclass(frozen=True)
class TensorList(Tensor):
    """Tensors whose number is unknown, held as one (an RNN cell's ``states``): an item taken
    by index or by unpacking is a tensor of the same nodes."""


@dataclass
class Seq:
    """A list or tuple whose elements are known one by one."""

    items: list[Any]
    is_tuple: bool = False


@dataclass
class Mapping:
    """A dict literal with constant keys (``**bn_kwargs`` spreads it into a call)."""

    items: dict[str, Any]


@dataclass
class Arguments:
    """The evaluated arguments of a call, with their source expressions."""

    positional: list[Any] = field(default_factory=list)
    positional_exprs: list[cst.BaseExpression | None] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    keyword_exprs: dict[str, cst.BaseExpression] = field(default_factory=dict)
    # A ``*args`` or ``**kwargs`` the frontend could not expand: anything may be in it.
    open_positional: bool = False
    open_keywords: bool = False
    # The names each argument's value came through, keyed by keyword or position: its own
    # name (``bn_momentum``, ``self.batch_norm_epsilon`` -> ``batch_norm_epsilon``) and, for
    # a helper's parameter or an attribute, the names it was bound from. A value known as
    # a constant keeps them: a name can say the value was meant for another argument.
    names: dict[str | int, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class LayerObject:
    """A constructed layer that has not been applied to a tensor yet."""

    op: str
    arguments: Arguments
    origin: cst.Call | None
    label: str
    local_class: cst.ClassDef | None = None  # a custom layer to trace into
    positional_names: tuple[str, ...] = ()
    # Keras reads the global image data format when a layer is constructed, not applied.
    global_format: Any = None
    # Names bound where a normalization layer is constructed (locals, ``self.<attr>``).
    scope_names: Container[str] = frozenset()


@dataclass
class SequentialModel:
    origin: cst.Call | None
    # (layer, style, site): how each layer was added, for the fixer.
    layers: list[tuple[Any, str, Any]] = field(default_factory=list)
    applied: bool = False
    input_rank: int | None = None
    name: str = ""  # the model's name= argument, when it is a constant


@dataclass
class FunctionalModel:
    outputs: Tensor | None


@dataclass
class Function:
    node: cst.FunctionDef
    owner: Instance | None = None  # bound ``self`` for methods
    # For a function defined inside another: the enclosing call's variables, which its
    # body reads (``def block(filters): def apply(x): ... Conv2D(filters)(x) ...; return apply``).
    closure: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class LocalClass:
    node: cst.ClassDef
    scope: dict[str, Any] | None = field(default=None, repr=False)  # its module's or enclosing call's names


@dataclass
class Instance:
    """``self`` while tracing a class, or an instance of a non-layer local class."""

    cls: cst.ClassDef
    attributes: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] | None = field(default=None, repr=False)  # where its methods look names up
    attribute_names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see Arguments.names


@dataclass
class Partial:
    """``functools.partial(callee, *args, **kwargs)``."""

    callee: Any
    arguments: Arguments


@dataclass
class BoundBuiltin:
    """A method of a value the frontend models itself (``model.add``, ``list.append``)."""

    name: str
    receiver: Any


@dataclass
class LambdaValue:
    node: cst.Lambda

def tensors_in(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, Seq):
        for item in value.items:
            yield from tensors_in(item)
    elif isinstance(value, Mapping):
        for item in value.items.values():
            yield from tensors_in(item)
    elif isinstance(value, FunctionalModel) and value.outputs is not None:
        yield value.outputs


def tensors_in_args(arguments: Arguments) -> list[Tensor]:
    found: list[Tensor] = []
    for value in list(arguments.positional) + list(arguments.keywords.values()):
        found.extend(tensors_in(value))
    return found


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)
