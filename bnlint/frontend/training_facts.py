"""The module's training code as facts (``bnlint.training``): batch sizes, frozen bases, tapes, TF1 update ops.

One walk over the module, only when its text mentions training code at all. It
is a small model, not a second interpreter: names are followed within a
function (and to the module's and class's own bindings), batch sizes are
literals or names bound once to a literal, and a name's origin (``built_by``)
is the local function or class, or ``Sequential``/``Model``, whose call bound
it, so that a rule can tell which graph a call trains. Every fact keeps the
CST node it came from as its origin, for the engine to position.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from bnlint.frontend import keras_api
from bnlint.frontend.custom_layers import dotted_name
from bnlint.frontend.syntax_walk import calls_in, subnodes
from bnlint.frontend.values import Const, Ref
from bnlint.training import (
    BaseCall,
    GradientPenalty,
    LayerCallTraining,
    PretrainedBase,
    TapeCall,
    TrainingBatch,
    TrainingFacts,
)

# A module mentioning none of these has no training code worth a walk.
_TOKENS = ("fit(", "fit_generator(", "GradientTape", "UPDATE_OPS", "minimize(", "training=True",
           "applications", "load_model")
# Calls whose ``batch_size=`` does not train (inference, evaluation).
_NOT_TRAINING = frozenset({"predict", "evaluate", "predict_on_batch", "test_on_batch", "predict_generator",
                           "evaluate_generator"})
_FIT = frozenset({"fit", "fit_generator"})
_PORT_COMMENT = re.compile(r"\b(pytorch|torch|caffe)\b", re.IGNORECASE)
# Weights converted from PyTorch or Caffe: files, loaders, and the model zoos they come from.
_PORTED_WEIGHTS = re.compile(r"\.pth\b|\.caffemodel\b|torch\.load\(|load_state_dict\(|\btimm\b|torchvision")
# Functions that train or test on purpose: a training step, a loss closure handed to an
# optimizer, a test of a layer's training mode. A literal ``training=True`` belongs there.
_TRAINING_CONTEXT = re.compile(r"train|step|loss|fit|test", re.IGNORECASE)


@dataclass
class _Scope:
    """One function's (or the module's, or a class's) bindings, as far as training facts need them."""

    parent: _Scope | None
    is_class: bool = False  # ``self.x`` bound in a method belongs to the class's scope
    entry: str = "<module>"  # the graph entry its code belongs to (see LayerGraph.entry)
    constants: dict[str, Any] = field(default_factory=dict)  # name -> int, or None when bound twice
    batches_by_name: dict[str, list[TrainingBatch]] = field(default_factory=dict)
    built_by: dict[str, str] = field(default_factory=dict)
    bases: dict[str, PretrainedBase] = field(default_factory=dict)
    fit_inputs: list[str] = field(default_factory=list)
    events: list[tuple[str, Any, str]] = field(default_factory=list)  # ("compile"|"unfreeze", node, name)
    watched: set[tuple[str, str]] = field(default_factory=set)  # (tape, name) of ``tape.watch(name)``

    def owner_of(self, name: str) -> _Scope:
        """Where a binding of ``name`` lives: ``self.x`` in the enclosing class, anything else here."""
        if name.startswith("self."):
            scope: _Scope | None = self
            while scope is not None:
                if scope.is_class:
                    return scope
                scope = scope.parent
        return self

    def lookup(self, table: str, name: str) -> Any:
        scope: _Scope | None = self
        while scope is not None:
            found = getattr(scope, table).get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None


def training_facts(module: cst.Module, globals_: dict[str, Any], source: str | None = None) -> TrainingFacts:
    """The training facts of ``module``; ``globals_`` are the interpreter's module bindings (for import aliases)."""
    text = source if source is not None else module.code
    facts = TrainingFacts()
    facts.port_evidence = _port_evidence(module, text)
    facts.loads_ported_weights = bool(_PORTED_WEIGHTS.search(text))
    if not any(token in text for token in _TOKENS):
        return facts
    walker = _Walker(facts, globals_)
    walker.scan_block(module.body, _Scope(None), tape=None, in_train_step=False)
    return facts


def _port_evidence(module: cst.Module, text: str) -> str:
    if "torch" in text.lower() or "caffe" in text.lower():
        for line in text.splitlines():
            comment = line.partition("#")[2]
            if comment and _PORT_COMMENT.search(comment):
                return "a comment naming " + _PORT_COMMENT.search(comment).group(1)  # type: ignore[union-attr]
    return ""


class _Walker:
    def __init__(self, facts: TrainingFacts, globals_: dict[str, Any]) -> None:
        self.facts = facts
        self.globals = globals_
        # The calls in each expression walked, by node id (the tree outlives the walker): an
        # assigned value is searched for calls to scan, then again for batch sources.
        self._calls: dict[int, list[cst.Call]] = {}

    def calls(self, expr: cst.CSTNode) -> list[cst.Call]:
        """Every call in ``expr``, outermost first, not going into lambdas."""
        found = self._calls.get(id(expr))
        if found is None:
            found = self._calls[id(expr)] = list(calls_in(expr))
        return found

    # ------------------------------------------------------------ statements

    def scan_block(self, body: Any, scope: _Scope, tape: str | None, in_train_step: bool) -> None:
        for stmt in body:
            self.scan_statement(stmt, scope, tape, in_train_step)

    def scan_statement(self, stmt: cst.CSTNode, scope: _Scope, tape: str | None, in_train_step: bool) -> None:
        if isinstance(stmt, cst.FunctionDef):
            inner = _Scope(scope, entry=_entry_of(scope, stmt.name.value))
            self.scan_block(_suite(stmt.body), inner, None,
                            in_train_step or bool(_TRAINING_CONTEXT.search(stmt.name.value)))
            self._close(inner)
        elif isinstance(stmt, cst.ClassDef):
            inner = _Scope(scope, is_class=True,
                           entry=stmt.name.value if scope.parent is None else scope.entry)
            self.scan_block(_suite(stmt.body), inner, None,
                            in_train_step or bool(_TRAINING_CONTEXT.search(stmt.name.value)))
            self._close(inner)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.scan_small(small, stmt, scope, tape, in_train_step)
        elif isinstance(stmt, cst.With):
            tape_name = tape
            for item in stmt.items:
                self.scan_expression(item.item, scope, tape, in_train_step)
                if _is_gradient_tape(item.item):
                    tape_name = item.asname.name.value if item.asname is not None and isinstance(
                        item.asname.name, cst.Name) else "tape"
            self.scan_block(_suite(stmt.body), scope, tape_name, in_train_step)
        elif isinstance(stmt, cst.For):
            self._unfreeze_loop(stmt, scope)
            self.scan_expression(stmt.iter, scope, tape, in_train_step)
            self.scan_block(_suite(stmt.body), scope, tape, in_train_step)
            if stmt.orelse is not None:
                self.scan_block(_suite(stmt.orelse.body), scope, tape, in_train_step)
        elif isinstance(stmt, (cst.If, cst.While)):
            self.scan_expression(stmt.test, scope, tape, in_train_step)
            self.scan_block(_suite(stmt.body), scope, tape, in_train_step)
            orelse = stmt.orelse
            while orelse is not None:
                if isinstance(orelse, cst.If):
                    self.scan_expression(orelse.test, scope, tape, in_train_step)
                    self.scan_block(_suite(orelse.body), scope, tape, in_train_step)
                    orelse = orelse.orelse
                else:
                    self.scan_block(_suite(orelse.body), scope, tape, in_train_step)
                    orelse = None
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self.scan_block(_suite(stmt.body), scope, tape, in_train_step)
            for handler in stmt.handlers:
                self.scan_block(_suite(handler.body), scope, tape, in_train_step)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    self.scan_block(_suite(extra.body), scope, tape, in_train_step)

    def scan_small(self, small: cst.BaseSmallStatement, line: cst.SimpleStatementLine, scope: _Scope,
                   tape: str | None, in_train_step: bool) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            value = small.value
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if value is None:
                return
            self.scan_expression(value, scope, tape, in_train_step)
            for target in targets:
                self._bind(target, value, line, scope)
        elif isinstance(small, cst.Expr) or isinstance(small, cst.Return) and small.value is not None:
            self.scan_expression(small.value, scope, tape, in_train_step)  # type: ignore[arg-type]

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, line: cst.CSTNode, scope: _Scope) -> None:
        name = dotted_name(target)
        if name is None:
            return
        scope = scope.owner_of(name)
        if name.endswith(".trainable"):
            owner = name[: -len(".trainable")]
            base = scope.lookup("bases", owner)
            if base is not None and _literal(value) is False:
                base.frozen = line
            elif base is not None and _literal(value) is True:
                scope.events.append(("unfreeze", line, owner))
            return
        literal = _literal(value)
        if isinstance(literal, int) and not isinstance(literal, bool):
            scope.constants[name] = None if name in scope.constants and scope.constants[name] != literal else literal
        elif name in scope.constants:
            scope.constants[name] = None
        sources = list(self._batch_sources(value, scope))
        if sources:
            scope.batches_by_name[name] = sources
        elif isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
                dotted_name(value.func.value) in scope.batches_by_name:
            scope.batches_by_name[name] = scope.batches_by_name[dotted_name(value.func.value)]  # type: ignore[index]
        if isinstance(value, cst.Call):
            builder = self._builder(value.func, scope)
            if builder:
                scope.built_by[name] = builder
            base = self._pretrained(value)
            if base is not None:
                scope.bases[name] = PretrainedBase(name, base, value)
                self.facts.bases.append(scope.bases[name])

    # ------------------------------------------------------------ expressions

    def scan_expression(self, expr: cst.BaseExpression, scope: _Scope, tape: str | None, in_train_step: bool) -> None:
        for call in self.calls(expr):
            self.scan_call(call, scope, tape, in_train_step)

    def scan_call(self, call: cst.Call, scope: _Scope, tape: str | None, in_train_step: bool) -> None:
        func = call.func
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        if method in _FIT:
            self._fit(call, scope)
        elif method == "compile":
            scope.events.append(("compile", call, dotted_name(func.value) or ""))  # type: ignore[union-attr]
        elif method == "minimize":
            self.facts.train_ops.append(call)
        elif method in ("get_collection", "control_dependencies") and "UPDATE_OPS" in _text_names(call):
            self.facts.collects_update_ops = True
        elif method == "control_dependencies":
            self.facts.collects_update_ops = True  # update ops wired some other way (a list built elsewhere)
        elif method == "watch" and tape is not None and call.args:
            scope.watched.add((tape, dotted_name(call.args[0].value) or ""))
        callee = dotted_name(func)
        if callee is None and isinstance(func, cst.Call) and dotted_name(func.func) is not None:
            callee = f"{dotted_name(func.func)}(...)"  # ``BatchNormalization()(x, training=True)``
        if callee is None or not _applies_to_tensor(call):
            return
        training = _training_argument(call)
        base = scope.lookup("bases", callee)
        if base is not None:
            base.calls.append(BaseCall(call, training))
        built_by = scope.lookup("built_by", callee) or ""
        if tape is not None and built_by:
            self.facts.tape_calls.append(TapeCall(callee, built_by, training, call))
            watched = _first_name(call)
            if watched and ((tape, watched) in scope.watched or re.search("interpol|averaged", watched)):
                self.facts.penalties.append(GradientPenalty(callee, built_by, call))
        elif tape is None and not in_train_step and training == "true":
            layer = self._layer_constructed_by(func, scope)
            if layer or built_by:
                self.facts.literal_training_calls.append(LayerCallTraining(callee, layer or built_by, call))

    def _fit(self, call: cst.Call, scope: _Scope) -> None:
        first = len(self.facts.batches)
        self._fit_batches(call, scope)
        receiver = dotted_name(call.func.value) if isinstance(call.func, cst.Attribute) else None
        built_by = (scope.lookup("built_by", receiver) or "") if receiver else ""
        self.facts.batches[first:] = [dataclasses.replace(b, entry=scope.entry, built_by=built_by)
                                      for b in self.facts.batches[first:]]

    def _fit_batches(self, call: cst.Call, scope: _Scope) -> None:
        size = _keyword(call, "batch_size")
        if size is not None:
            value = self._int(size, scope)
            if value is not None:
                self.facts.batches.append(TrainingBatch(value, f"fit(batch_size={value})", size))
        data = _keyword(call, "x") or next((a.value for a in call.args if a.keyword is None and not a.star), None)
        if data is None:
            return
        inline = list(self._batch_sources(data, scope))
        if inline:
            self.facts.batches.extend(inline)
        elif dotted_name(data) is not None:
            self.facts.batches.extend(scope.lookup("batches_by_name", dotted_name(data)) or ())

    def _batch_sources(self, expr: cst.BaseExpression, scope: _Scope) -> Iterator[TrainingBatch]:
        """``.batch(n)`` and data producers called with ``batch_size=n`` inside ``expr``."""
        for call in self.calls(expr):
            func = call.func
            method = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
            if method in ("batch", "padded_batch") and isinstance(func, cst.Attribute) and call.args:
                first = call.args[0] if call.args[0].keyword in (None,) else _keyword_arg(call, "batch_size")
                size = self._int(first.value, scope) if first is not None else None
                if size is not None:
                    yield TrainingBatch(size, f".{method}({size})", first.value)  # type: ignore[union-attr]
            elif method is not None and method.rsplit(".", 1)[-1] not in _NOT_TRAINING | _FIT:
                size_expr = _keyword(call, "batch_size")
                size = self._int(size_expr, scope) if size_expr is not None else None
                if size is not None:
                    yield TrainingBatch(size, f"{method.rsplit('.', 1)[-1]}(batch_size={size})", size_expr)

    def _int(self, expr: cst.BaseExpression, scope: _Scope) -> int | None:
        literal = _literal(expr)
        if isinstance(literal, int) and not isinstance(literal, bool):
            return literal
        if isinstance(expr, cst.Name):
            found = scope.lookup("constants", expr.value)
            if isinstance(found, int):
                return found
            value = self.globals.get(expr.value)
            if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
                return value.value
        return None

    def _resolve(self, func: cst.BaseExpression) -> str | None:
        name = dotted_name(func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        bound = self.globals.get(head)
        if isinstance(bound, Ref):
            return f"{bound.qualname}.{rest}" if rest else bound.qualname
        return name

    def _builder(self, func: cst.BaseExpression, scope: _Scope) -> str:
        """What a call builds, when it is a model or a layer: a local function or class, or a Keras class."""
        qualname = self._resolve(func)
        if qualname is None:
            return ""
        entry = keras_api.resolve(qualname)
        if entry is not None:
            if entry.kind in ("sequential", "model"):
                return entry.label or "Model"
            if entry.kind == "layer":
                return entry.op
            return ""
        if "." not in qualname and qualname[:1].isalpha():
            return qualname  # a local function or class: the graph of the same name is what it builds
        return ""

    def _layer_constructed_by(self, func: cst.BaseExpression, scope: _Scope) -> str:
        if isinstance(func, cst.Call):  # ``BatchNormalization()(x, training=True)``
            return self._builder(func.func, scope)
        return ""

    def _pretrained(self, call: cst.Call) -> str | None:
        qualname = self._resolve(call.func)
        if qualname is None:
            return None
        entry = keras_api.resolve(qualname)
        if entry is not None and entry.kind == "load_model":
            return "load_model"
        if entry is None or entry.kind != "application":
            return None
        weights = _keyword(call, "weights")
        if weights is not None and not isinstance(weights, cst.SimpleString):
            return None  # ``weights=None``, or a variable that may be None: no evidence of trained weights
        return entry.label

    def _unfreeze_loop(self, loop: cst.For, scope: _Scope) -> None:
        """``for layer in base.layers: layer.trainable = True`` with no ``BatchNormalization`` test in it."""
        iterated = dotted_name(loop.iter)
        if iterated is None or not iterated.endswith(".layers") or not isinstance(loop.target, cst.Name):
            return
        base = scope.lookup("bases", iterated[: -len(".layers")])
        if base is None:
            return
        body = _suite(loop.body)
        mentions_bn = "BatchNorm" in cst.Module(body=list(body)).code
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1 and \
                            dotted_name(small.targets[0].target) == f"{loop.target.value}.trainable" and \
                            _literal(small.value) is True and not mentions_bn:
                        base.unfreeze_all = stmt

    def _close(self, scope: _Scope) -> None:
        """At the end of a function: ``base.trainable = True`` after its last ``compile()``."""
        compiled = [i for i, (kind, _, _) in enumerate(scope.events) if kind == "compile"]
        if not compiled:
            return
        for index, (kind, node, name) in enumerate(scope.events):
            if kind == "unfreeze" and index > compiled[-1]:
                base = scope.lookup("bases", name)
                if base is not None:
                    base.unfrozen_after_compile = node


# ---------------------------------------------------------------------- helpers

def _suite(body: Any) -> Any:
    return body.body if isinstance(body, cst.IndentedBlock) else getattr(body, "body", ())


def _keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    arg = _keyword_arg(call, name)
    return arg.value if arg is not None else None


def _literal(expr: cst.BaseExpression) -> Any:
    if isinstance(expr, cst.Integer):
        return int(expr.value.replace("_", ""), 0)
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    return ...


def _training_argument(call: cst.Call) -> str:
    value = _keyword(call, "training")
    if value is None:
        return "absent"
    literal = _literal(value)
    return {True: "true", False: "false"}.get(literal, "other") if isinstance(literal, bool) else "other"


def _applies_to_tensor(call: cst.Call) -> bool:
    return any(arg.keyword is None and not arg.star for arg in call.args)


def _first_name(call: cst.Call) -> str:
    first = next((a.value for a in call.args if a.keyword is None and not a.star), None)
    return dotted_name(first) or "" if first is not None else ""


def _is_gradient_tape(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and (dotted_name(expr.func) or "").endswith("GradientTape")


def _text_names(call: cst.Call) -> set[str]:
    names = set()
    stack: list[cst.CSTNode] = [call]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, cst.SimpleString):
            names.add(node.raw_value)
        stack.extend(subnodes(node))
    return names


def _entry_of(scope: _Scope, name: str) -> str:
    """The graph entry of a function defined in ``scope``: itself at top level, ``Class.method``
    in a class (its ``__init__``/``build``/``call`` belong to the class's entry), else the enclosing one."""
    if scope.parent is None:
        return name
    if scope.is_class:
        return scope.entry if name in ("__init__", "build", "call", "__call__") else f"{scope.entry}.{name}"
    return scope.entry
