"""Turning layer applications into LayerGraph nodes.

The interpreter decides *what* the code does (this layer object is applied to
that tensor); this half of it records it in the graph: one node per
application, its constant arguments, data format and output rank, an implicit
activation node for ``activation=``, and edges from the tensors it consumed.
"""
from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

import libcst as cst

from bnlint import ops
from bnlint.frontend import keras_api
from bnlint.frontend.values import (
    Arguments,
    Const,
    FunctionalModel,
    GlobalDataFormat,
    Instance,
    LayerObject,
    Ref,
    Seq,
    SequentialModel,
    Tensor,
    Unknown,
    is_tensor,
    tensors_in_args,
)
from bnlint.graph import DataFormat, LayerGraph, Value
from bnlint.ops import Family

# Positional parameters of the layers whose positional arguments rules read.
POSITIONAL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Dropout": ("rate", "noise_shape", "seed"),
    "SpatialDropout1D": ("rate",), "SpatialDropout2D": ("rate",), "SpatialDropout3D": ("rate",),
    "GaussianDropout": ("rate",), "AlphaDropout": ("rate",),
    "Dense": ("units", "activation"),
    "Activation": ("activation",),
    "Concatenate": ("axis",),
    "Reshape": ("target_shape",),
    "Rescaling": ("scale", "offset"),
    "LeakyReLU": ("negative_slope",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    **{op: ("filters", "kernel_size", "strides", "padding", "data_format") for op, info in ops.CATALOG.items()
       if info.family is Family.CONV and not op.startswith("Depthwise")},
    **{op: ("kernel_size", "strides", "padding") for op in ("DepthwiseConv1D", "DepthwiseConv2D")},
    **{op: ("pool_size", "strides", "padding", "data_format") for op, info in ops.CATALOG.items()
       if info.family is Family.POOL},
    **{op: ("size", "data_format") for op, info in ops.CATALOG.items() if info.family is Family.UPSAMPLE},
    **{op: ("padding", "data_format") for op, info in ops.CATALOG.items() if info.family is Family.PAD},
    **{op: ("cropping", "data_format") for op, info in ops.CATALOG.items() if info.family is Family.CROP},
    **{op: ("data_format",) for op, info in ops.CATALOG.items() if info.family is Family.GLOBAL_POOL},
}


# Argument expressions whose source text is their ``value``, and those whose text is cheap to
# print. Sets of exact types: ``isinstance`` against LibCST's node classes runs ABCMeta's check
# on every miss, and every argument of every layer asks.
_LEAF_EXPRESSIONS = frozenset({cst.Name, cst.Integer, cst.Float, cst.SimpleString})
_SHORT_EXPRESSIONS = frozenset({cst.Attribute, cst.UnaryOperation})

# Wrappers, and the arguments of their wrapped layer that shape their output.
_WRAPPED_ARGUMENTS: dict[str, tuple[str, ...]] = {"Bidirectional": ("return_sequences",)}


def callee_name(expr: cst.CSTNode) -> str:
    """How the code names a layer bnlint does not know: ``InstanceNormalization`` for
    ``tfa.layers.InstanceNormalization()(x)``, ``norm1`` for ``self.norm1(x)``; "Unknown" for other expressions."""
    func = expr
    while isinstance(func, cst.Call):
        func = func.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) and func is not expr else "Unknown"


def _written_layer(site: Any) -> cst.CSTNode:
    """The layer expression of a Sequential list element or a ``model.add(layer)`` line."""
    if isinstance(site, cst.Element):
        return site.value
    if isinstance(site, cst.SimpleStatementLine) and site.body and isinstance(site.body[0], cst.Expr) \
            and isinstance(site.body[0].value, cst.Call) and site.body[0].value.args:
        return site.body[0].value.args[0].value
    return cst.Name("Unknown")


class GraphBuilding:
    """The graph-recording half of the Interpreter (a mixin: it shares the interpreter's state)."""

    graph: LayerGraph
    module: cst.Module
    statement: cst.CSTNode | None
    conditional: int
    data_format: DataFormat
    format_explicit: bool
    stack: list[cst.CSTNode]
    expression_texts: dict[int, str]  # source text of argument expressions, by node id

    def apply_callable(self, callee: Any, tensor: Any, origin: cst.CSTNode | None) -> Any:
        raise NotImplementedError  # the interpreter calls models and custom layers

    def record_model(self, name: str, inputs: Any, outputs: Any) -> None:
        raise NotImplementedError  # the interpreter knows which entry and function build it


    def as_tensor(self, value: Any) -> Tensor | None:
        if isinstance(value, Tensor):
            return value
        if isinstance(value, Unknown):
            if value.tensor_node is None:
                value.tensor_node = self.graph.add_node("Input", label=value.expression, data_format=DataFormat.UNKNOWN).id
            return Tensor(frozenset({value.tensor_node}))
        return None

    def _placeholder_tensor(self, rank: int | None) -> Tensor:
        node = self.graph.add_node("Input", label="input", rank=rank, data_format=self._input_format())
        return Tensor(frozenset({node.id}))

    def _input_format(self) -> DataFormat:
        return self.data_format if self.format_explicit else DataFormat.UNKNOWN

    def input_tensor(self, arguments: Arguments, expr: cst.Call) -> Tensor:
        shape = arguments.keywords.get("shape", arguments.positional[0] if arguments.positional else None)
        batch_shape = arguments.keywords.get("batch_shape") or arguments.keywords.get("batch_input_shape")
        rank = None
        if isinstance(shape, (Seq, Const)):
            rank = _length(shape) + 1 if _length(shape) is not None else None
        elif isinstance(batch_shape, (Seq, Const)):
            rank = _length(batch_shape)
        node = self.graph.add_node("Input", origin=expr, site=self.statement, rank=rank,
                                   data_format=self._input_format(), label="Input",
                                   conditional=self.conditional > 0)
        return Tensor(frozenset({node.id}))

    def opaque_node(self, inputs: Iterable[Any], expr: cst.CSTNode, op: str, label: str | None = None) -> Any:
        tensors = [t for t in (self.as_tensor(v) if is_tensor(v) else None for v in inputs) if t is not None]
        if not tensors:
            return Unknown(op)
        label = label or (callee_name(expr) if op == "Unknown" else op)
        node = self.graph.add_node(op, origin=expr, site=self.statement, label=label, conditional=self.conditional > 0)
        for slot, tensor in enumerate(tensors):
            for source in sorted(tensor.nodes):
                self.graph.connect(source, node.id, slot, expr)
        return Tensor(frozenset({node.id}))

    def apply_merge(self, entry: keras_api.ApiEntry, arguments: Arguments, expr: cst.Call) -> Any:
        inputs_value = arguments.positional[0] if arguments.positional else arguments.keywords.get("inputs",
                                                                                                    arguments.keywords.get("values"))
        keywords = dict(arguments.keywords)
        if entry.kind == "concat" and len(arguments.positional) > 1:
            keywords["axis"] = arguments.positional[1]
        if entry.op == "Concatenate" and "axis" not in keywords and entry.kind == "concat" and entry.label == "concat":
            keywords["axis"] = Unknown("axis")  # tf.concat has no default axis
        keywords.pop("inputs", None)
        keywords.pop("values", None)
        list_expr = expr.args[0].value if expr.args else None
        if not isinstance(inputs_value, Seq):
            if entry.op == "Add" and len(arguments.positional) == 2:  # tf.add(a, b)
                inputs_value = Seq(list(arguments.positional))
                list_expr = None
            else:
                return self.opaque_node(tensors_in_args(arguments), expr, "Unknown")
        items = _element_exprs(list_expr, len(inputs_value.items), expr)
        return self.add_layer_node(entry.op, Arguments(keywords=keywords), expr,
                                   list(zip(inputs_value.items, items)), label=entry.label)

    def apply_layer(self, layer: LayerObject, arguments: Arguments, expr: cst.Call) -> Any:
        inputs = arguments.positional[0] if arguments.positional else arguments.keywords.get("inputs")
        if inputs is None:
            return Unknown("call")
        if layer.local_class is not None:
            return Unknown("call")
        input_exprs = arguments.positional_exprs[:1] if arguments.positional_exprs else [expr]
        if ops.family(layer.op) is Family.MERGE:
            if not isinstance(inputs, Seq):
                return self.opaque_node([inputs], expr, "Unknown")
            items = _element_exprs(input_exprs[0] if input_exprs else None, len(inputs.items), expr)
            pairs = list(zip(inputs.items, items))
        else:
            pairs = [(inputs, input_exprs[0] or expr)]
        return self.add_layer_node(layer.op, layer.arguments, layer.origin, pairs, label=layer.label,
                                   positional_names=layer.positional_names, global_format=layer.global_format,
                                   scope_names=layer.scope_names)

    def _apply_sequential(self, model: SequentialModel, tensor: Tensor | None) -> Any:
        current: Any = tensor
        for index, (layer, style, site) in enumerate(model.layers):
            if isinstance(layer, Tensor):  # ``keras.Input(...)`` as the first element
                current = layer
                continue
            if isinstance(layer, LayerObject) and layer.op == "Input":
                current = self._placeholder_tensor(input_rank_of(layer))
                continue
            if index == 0 or current is None:
                rank = input_rank_of(layer)
                if rank is not None and (current is None or self.graph.node(min(current.nodes)).op == "Input"):
                    current = self._placeholder_tensor(rank)
            if current is None:
                current = self._placeholder_tensor(None)
            saved = self.statement
            self.statement = site if style == "model-add" else saved
            try:
                if isinstance(layer, LayerObject):
                    current = self.add_layer_node(layer.op, layer.arguments, layer.origin, [(current, None)],
                                                  label=layer.label, positional_names=layer.positional_names,
                                                  style=style, site=site, global_format=layer.global_format,
                                                  scope_names=layer.scope_names)
                elif isinstance(layer, (SequentialModel, Instance, FunctionalModel)):
                    current = self.apply_callable(layer, current, model.origin)
                else:
                    current = self.opaque_node([current], model.origin or cst.Name("model"), "Unknown",
                                               label=callee_name(_written_layer(site)))
            finally:
                self.statement = saved
        model.applied = True
        output = self.as_tensor(current) if current is not None else None
        self.record_model(model.name, tensor, output)
        return current

    def add_layer_node(self, op: str, arguments: Arguments, origin: cst.CSTNode | None,
                       inputs: list[tuple[Any, Any]], label: str, positional_names: tuple[str, ...] = (),
                       style: str | None = None, site: Any = None, global_format: DataFormat | None = None,
                       scope_names: Container[str] = frozenset()) -> Any:
        args = self.layer_arguments(arguments, positional_names)
        self._wrapped_arguments(op, arguments, args)
        info = ops.info(op)
        data_format = self._layer_format(args, global_format or self.data_format)
        if op == "Activation" and args.get("activation") is not None and args["activation"].known:
            args["activation"] = Value.of(keras_api.activation_name(args["activation"].constant))
        tensors: list[tuple[Tensor, Any]] = []
        for value, value_expr in inputs:
            tensor = self.as_tensor(value)
            if tensor is not None:
                tensors.append((tensor, value_expr))
        input_ranks = {self.graph.node(n).rank for t, _ in tensors for n in t.nodes}
        input_rank = input_ranks.pop() if len(input_ranks) == 1 else None
        node = self.graph.add_node(
            op, args=args, data_format=data_format, origin=origin,
            site=site if site is not None else self.statement,
            style=style or ("subclass" if self.stack and type(self.stack[-1]) is cst.ClassDef else "functional"),
            conditional=self.conditional > 0, label=label,
            rank=_output_rank(op, info, args, input_rank),
        )
        node.unknown_kwargs = arguments.open_keywords or arguments.open_positional
        node.scope_names = scope_names
        for slot, (tensor, value_expr) in enumerate(tensors):
            for source in sorted(tensor.nodes):
                self.graph.connect(source, node.id, slot, value_expr)
        result = Tensor(frozenset({node.id}))
        activation = args.get("activation")
        if info.family in (Family.CONV, Family.DENSE) and activation is not None:
            name = keras_api.activation_name(activation.constant) if activation.known else None
            if name != "linear":
                act = self.graph.add_node(
                    "Activation", args={"activation": Value.of(name) if name else activation},
                    data_format=data_format, origin=origin, site=node.site, style=node.style, implicit=True,
                    conditional=node.conditional, rank=node.rank, owner=node.id, label=name or "activation",
                )
                self.graph.connect(node.id, act.id, 0, None)
                result = Tensor(frozenset({act.id}))
        return result

    def _wrapped_arguments(self, op: str, arguments: Arguments, args: dict[str, Value]) -> None:
        """A wrapper's output follows some arguments of the layer it wraps: the node gets them too."""
        wrapped = arguments.positional[0] if arguments.positional else arguments.keywords.get("layer")
        if not isinstance(wrapped, LayerObject):
            return
        for name in _WRAPPED_ARGUMENTS.get(op, ()):
            if name in wrapped.arguments.keywords and name not in args:
                args[name] = self.to_value(wrapped.arguments.keywords[name], wrapped.arguments.keyword_exprs.get(name))

    def layer_arguments(self, arguments: Arguments, positional_names: tuple[str, ...]) -> dict[str, Value]:
        args: dict[str, Value] = {}
        for index, value in enumerate(arguments.positional):
            name = positional_names[index] if index < len(positional_names) else f"arg{index}"
            args[name] = self.to_value(value, arguments.positional_exprs[index]
                                       if index < len(arguments.positional_exprs) else None,
                                       arguments.names.get(index, ()))
        for name, value in arguments.keywords.items():
            args[name] = self.to_value(value, arguments.keyword_exprs.get(name), arguments.names.get(name, ()))
        return args

    def to_value(self, value: Any, expr: cst.CSTNode | None, names: tuple[str, ...] = ()) -> Value:
        """The argument as the graph keeps it; a known value keeps its expression and names too."""
        text = self.expression_text(expr, unknown=not isinstance(value, (Const, Seq)))
        if isinstance(value, Const):
            return Value.of(value.value, text, names)
        if isinstance(value, Seq) and all(isinstance(v, Const) for v in value.items):
            return Value.of(tuple(v.value for v in value.items), text, names)
        if isinstance(value, Ref):
            entry = keras_api.resolve(value.qualname)
            if entry is not None and entry.kind == "activation":  # ``activation=tf.nn.relu``
                return Value.of(entry.label, text, names)
            return Value.unknown(value.qualname, names)  # an imported name: its value is elsewhere
        if isinstance(value, GlobalDataFormat):
            return Value.unknown("image_data_format()", names)
        return Value.unknown(text or "<expression>", names)

    def expression_text(self, expr: cst.CSTNode | None, unknown: bool) -> str:
        """The source text of an argument; for a known value only where it is cheap to have."""
        if expr is None:
            return ""
        kind = type(expr)
        if kind in _LEAF_EXPRESSIONS:
            return expr.value
        if unknown or kind in _SHORT_EXPRESSIONS:
            # A helper traced for every call site shows the same argument again and again.
            text = self.expression_texts.get(id(expr))
            if text is None:
                text = self.expression_texts[id(expr)] = self.module.code_for_node(expr)
            return text
        return ""

    def _layer_format(self, args: dict[str, Value], global_format: DataFormat) -> DataFormat:
        value = args.get("data_format")
        if value is None or value.known and value.constant is None:
            return global_format
        if value.known:
            return DataFormat.parse(value.constant)
        if value.expression == "image_data_format()":
            return global_format
        return DataFormat.UNKNOWN


def _element_exprs(list_expr: Any, count: int, fallback: cst.CSTNode) -> list[Any]:
    if isinstance(list_expr, (cst.List, cst.Tuple)) and len(list_expr.elements) == count:
        return [e.value for e in list_expr.elements]
    return [fallback] * count


def _length(value: Any) -> int | None:
    if isinstance(value, Seq):
        return len(value.items)
    if isinstance(value, Const) and isinstance(value.value, (tuple, list)):
        return len(value.value)
    return None


def input_rank_of(layer: Any) -> int | None:
    if not isinstance(layer, LayerObject):
        return None
    for key in ("input_shape", "batch_input_shape", "shape", "batch_shape"):
        value = layer.arguments.keywords.get(key)
        length = _length(value) if value is not None else None
        if length is not None:
            return length + 1 if key in ("input_shape", "shape") else length
    if layer.op == "Input" and layer.arguments.positional:
        length = _length(layer.arguments.positional[0])
        return length + 1 if length is not None else None
    return None


def _output_rank(op: str, info: ops.OpInfo, args: dict[str, Value], input_rank: int | None) -> int | None:
    family = info.family
    if family in (Family.CONV, Family.POOL, Family.UPSAMPLE, Family.PAD, Family.CROP) and info.spatial_rank:
        return info.spatial_rank + 2
    if family is Family.GLOBAL_POOL:
        keepdims = args.get("keepdims")
        if keepdims is None or keepdims.known and not keepdims.constant:
            return 2
        return info.spatial_rank + 2 if keepdims.known and info.spatial_rank else None
    if op == "Flatten":
        return 2
    if op == "Reshape":
        target = args.get("target_shape")
        if target is not None and target.known and isinstance(target.constant, tuple):
            return len(target.constant) + 1
        return None
    if family is Family.EMBEDDING:
        return 3
    if family in (Family.NORM, Family.ACTIVATION, Family.DROPOUT, Family.SCALE, Family.DENSE) or op in (
            "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Permute"):
        return input_rank
    return None
