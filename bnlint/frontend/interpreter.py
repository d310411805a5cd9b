"""An abstract interpreter that turns model-building Python into a LayerGraph.

Every style of writing a Keras model comes down to the same few operations:
construct a layer, apply it to tensors, pass tensors through helper functions,
lists and attributes. So instead of one pattern matcher per style, the frontend
interprets the code abstractly: constants are propagated, layers become graph
nodes when applied, helper functions and custom layers are traced into with
their arguments bound, loops over literal lists are unrolled, and an ``if`` whose
condition is unknown runs both branches and merges them. Nothing is imported or
executed; whatever cannot be known stays ``Unknown`` and no rule guesses at it.
"""
from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Iterable
from typing import Any

import libcst as cst

from bnlint.frontend import budget, custom_layers, keras_api, namespaces
from bnlint.frontend.builder import POSITIONAL_PARAMETERS, GraphBuilding
from bnlint.frontend.models import ModelSpan
from bnlint.frontend.project import LoadedModule, Project
from bnlint.frontend.values import (
    GLOBAL_DATA_FORMAT,
    WEIGHT,
    Arguments,
    BoundBuiltin,
    Const,
    Default,
    Function,
    FunctionalModel,
    Instance,
    LambdaValue,
    LayerObject,
    LocalClass,
    Mapping,
    Partial,
    ProjectRef,
    Ref,
    Seq,
    SequentialModel,
    Tensor,
    TensorList,
    Unknown,
    Weight,
    is_tensor,
    tensors_in,
    tensors_in_args,
)
from bnlint.graph import DataFormat, LayerGraph

MAX_CALL_DEPTH = 12
MAX_UNROLL = 64
UNKNOWN_LOOP_PASSES = 2
MAX_STEPS = 200_000
MAX_NODES = 50_000

_BINARY = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
}
def _power(base: Any, exponent: Any) -> Any:
    if not isinstance(exponent, int) or abs(exponent) > 64 or isinstance(base, (int, float)) and abs(base) > 2**16:
        raise ValueError("too large to fold")
    return base**exponent


_BINARY[cst.Power] = _power

# Constant folding stops here: ``n = n * n`` or ``s = s + s`` forty times would
# otherwise build numbers and strings of terabytes, and no layer argument needs them.
MAX_FOLDED_BITS = 4096
MAX_FOLDED_LENGTH = 10_000


def _small_enough_to_fold(op: cst.CSTNode, left: Any, right: Any) -> bool:
    """Whether ``left op right`` has a result small enough to compute, judged before computing it."""
    for value in (left, right):
        if isinstance(value, int) and value.bit_length() > MAX_FOLDED_BITS:
            return False
        if isinstance(value, (str, bytes, tuple, list)) and len(value) > MAX_FOLDED_LENGTH:
            return False
    if isinstance(op, cst.Multiply) and isinstance(left, int) and isinstance(right, int):
        return left.bit_length() + right.bit_length() <= MAX_FOLDED_BITS
    if isinstance(op, cst.Add) and isinstance(left, (str, bytes, tuple, list)):
        return len(left) + len(right) <= MAX_FOLDED_LENGTH
    if isinstance(op, cst.Modulo) and isinstance(left, (str, bytes)):
        return b"*" not in (left if isinstance(left, bytes) else left.encode("utf-8", "replace"))  # "%*d" widths
    return True


_COMPARE = {
    cst.Equal: operator.eq, cst.NotEqual: operator.ne, cst.LessThan: operator.lt,
    cst.GreaterThan: operator.gt, cst.LessThanEqual: operator.le, cst.GreaterThanEqual: operator.ge,
    cst.Is: operator.is_, cst.IsNot: operator.is_not,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
}


_AUGMENTED = {
    cst.AddAssign: cst.Add(), cst.SubtractAssign: cst.Subtract(), cst.MultiplyAssign: cst.Multiply(),
    cst.DivideAssign: cst.Divide(), cst.FloorDivideAssign: cst.FloorDivide(), cst.ModuloAssign: cst.Modulo(),
}


# A frame keeps, beside each variable ``v``, the names its value came through under the
# key ``NAMES_OF + "v"`` (see ``Arguments.names``). The space keeps the key apart from any
# Python identifier, and the entry travels wherever the frame's variables are copied.
NAMES_OF = "names of "
MAX_NAMES = 8


# Helper traces are replayed (see ``Interpreter.inline``) only in graphs larger than
# this: ordinary models are traced call by call.
MEMO_AFTER_NODES = 2_000
# How many layers upstream of a tensor argument a replayed call must match.
ANCESTRY_DEPTH = 8


class _Trace:
    """What a helper's trace returned and left behind, to replay it."""

    __slots__ = ("data_format", "format_explicit", "inlined", "result", "statement")

    def __init__(self, result: Any, inlined: set[int], data_format: DataFormat, format_explicit: bool,
                 statement: cst.CSTNode | None) -> None:
        self.result = result
        self.inlined = inlined
        self.data_format = data_format
        self.format_explicit = format_explicit
        self.statement = statement


def _replayable(result: Any) -> bool:
    """Results a replay may hand out again: values nobody can change in place."""
    if isinstance(result, (Tensor, Const, Unknown)):
        return True
    return isinstance(result, Seq) and result.is_tuple and all(isinstance(v, (Tensor, Const)) for v in result.items)


# Small statements that end the block they are in (the rest of the block is not run).
_STOPPING = frozenset({cst.Raise, cst.Break, cst.Continue})


class BudgetExceeded(Exception):
    """The file is too large or too loopy to trace completely."""


_UNBOUND: Any = object()  # what a frame holds for a name it does not bind


class _BranchVariables(dict):
    """A branch's copy of its frame's variables that remembers which names the branch bound.

    The interpreter binds a name only by item assignment (``frame.vars[name] = value``), so
    that is the one write to record; a loop body inside the branch shares the dict, and a
    nested ``if`` merges into it by the same assignment.
    """

    __slots__ = ("bound",)

    def __init__(self, variables: dict[str, Any]) -> None:
        super().__init__(variables)
        self.bound: set[str] = set()

    def __setitem__(self, name: str, value: Any) -> None:
        self.bound.add(name)
        super().__setitem__(name, value)


class Frame:
    __slots__ = ("vars", "instance", "returns", "stopped", "global_names")

    def __init__(self, variables: dict[str, Any], instance: Instance | None = None,
                 global_names: set[str] | None = None) -> None:
        self.vars = variables
        self.instance = instance
        self.returns: list[Any] = []
        self.stopped = False  # a return/raise/break ended the current block
        # Names a ``global`` statement of the function made module-level (shared by its blocks).
        self.global_names: set[str] = set() if global_names is None else global_names


def _literal(text: str) -> Any:
    """The value of a number or string literal; helpers are traced many times, their literals read once."""
    try:
        return _literal_value(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return Unknown("string")


@functools.lru_cache(maxsize=4096)
def _literal_value(text: str) -> Const:
    return Const(ast.literal_eval(text))


def merge_values(a: Any, b: Any) -> Any:
    """The value of a name after an ``if`` whose branches gave it ``a`` and ``b``."""
    # Equality only for values without references: an instance may hold itself (``self.owner = self``).
    if a is b or type(a) is type(b) and isinstance(a, (Const, Ref, Tensor)) and a == b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Tensor(a.nodes | b.nodes)
    if isinstance(a, Ref) and isinstance(b, Ref) and keras_api.same_api(a.qualname, b.qualname):
        return a  # ``if TF: from tensorflow.keras.layers import X`` / ``else: from keras.layers import X``
    if isinstance(a, Seq) and isinstance(b, Seq) and len(a.items) == len(b.items):
        return Seq([merge_values(x, y) for x, y in zip(a.items, b.items)], a.is_tuple)
    return Unknown("<either branch>")


class Interpreter(GraphBuilding):
    def __init__(self, module: cst.Module, data_format: DataFormat | None = None,
                 project: Project | None = None, module_name: tuple[str, bool] | None = None) -> None:
        self.module = module
        self.configured_format = data_format
        # The project the module belongs to, and the module's dotted name and whether it is a
        # package (``__init__``), against which its relative imports resolve. A module loaded
        # for tracing (``module_name`` given) binds its own globals to its functions and classes.
        self.project = project
        self.library = module_name is not None
        self.module_name = module_name or ((project.module_name, project.file.name == "__init__.py")
                                           if project is not None else ("", False))
        # The linted file is read as the program it is when run (its ``if __name__ == "__main__":``
        # block builds its models, once, like any other statement); a module traced for it
        # is imported under its own name.
        self.globals: dict[str, Any] = {"__name__": Const(self.module_name[0] if self.library else "__main__")}
        self.expression_texts: dict[int, str] = {}
        self.star_imports: list[str] = []
        self.graph = LayerGraph("<module>")
        self.default_format = data_format or DataFormat.CHANNELS_LAST
        self.format_explicit = data_format is not None
        self.data_format = self.default_format
        self.stack: list[cst.CSTNode] = []
        # ids of functions/classes traced from another entry outside any undecided branch:
        # they are no models of their own. One traced only under an undecided ``if``
        # (``if __name__ == "__main__": build().summary()``) keeps its own graph.
        self.inlined: set[int] = set()
        self.models: list[ModelSpan] = []
        # BN layers constructed anywhere in the module, by call site (the first trace of each).
        self.constructed_norms: dict[int, LayerObject] = {}
        self.conditional = 0
        self.statement: cst.CSTNode | None = None
        self.steps = 0
        self.sequentials: list[SequentialModel] = []
        self.module_format = self.default_format
        self.module_format_explicit = self.format_explicit

    # ------------------------------------------------------------------ entries

    def run_module(self) -> LayerGraph:
        frame = Frame(self.globals)
        self._run_entry(lambda: self.exec_block(self.module.body, frame))
        self.module_format, self.module_format_explicit = self.data_format, self.format_explicit
        return self.graph

    def run_function(self, node: cst.FunctionDef, name: str) -> LayerGraph:
        self._start_entry(name)
        frame = Frame({})  # names it does not bind are the module's (``_eval_Name``)
        self._bind_entry_parameters(node, frame, skip_self=False)

        def body() -> None:
            self.stack.append(node)
            self.exec_block(_body(node), frame)
            self._mark_outputs(frame.returns)
            for value in frame.returns:
                if isinstance(value, Function) and value.closure is not None:
                    # ``def block(...): def apply(x): ...; return apply``: the block's layers
                    # are built when a caller applies it; with no caller here, apply it to an input.
                    self._mark_outputs([self.inline(value, Arguments(), value.node)])

        self._run_entry(body)
        return self.graph

    def run_class(self, cls: cst.ClassDef) -> LayerGraph:
        self._start_entry(cls.name.value)
        instance = Instance(cls)
        found = custom_layers.methods(cls)
        states = custom_layers.state_parameter(cls)

        def body() -> None:
            self.stack.append(cls)
            for name in ("__init__", "build", "call"):
                method = found.get(name)
                if method is None:
                    continue
                frame = Frame({}, instance)
                self._bind_entry_parameters(method, frame, skip_self=True)
                if name == "call" and states is not None:
                    # An RNN cell: ``call`` runs once per time step on the states the step before returned.
                    node = self.graph.add_node("Input", label=states, data_format=DataFormat.UNKNOWN,
                                               recurrent_state=True)
                    frame.vars[states] = TensorList(frozenset({node.id}))
                self.exec_block(_body(method), frame)
                if name == "call":
                    self._mark_outputs(frame.returns)

        self._run_entry(body)
        return self.graph

    def run_method(self, cls: cst.ClassDef, method: cst.FunctionDef) -> LayerGraph:
        """A method other than ``__init__``/``build``/``call`` (a test, a ``get_model``), on its own."""
        self._start_entry(f"{cls.name.value}.{method.name.value}")
        decorators = {custom_layers.dotted_name(d.decorator) for d in method.decorators}
        # ``cls`` of a classmethod is the class itself (``cls(**config)`` builds a new instance).
        owner = LocalClass(cls) if "classmethod" in decorators else Instance(cls)

        def body() -> None:
            self.stack.append(method)
            frame = Frame({}, owner if isinstance(owner, Instance) else None)
            self._bind_entry_parameters(method, frame, skip_self=False)
            params = [*method.params.posonly_params, *method.params.params]
            if "staticmethod" not in decorators and params:
                frame.vars[params[0].name.value] = owner
            self.exec_block(_body(method), frame)
            self._mark_outputs(frame.returns)

        self._run_entry(body)
        return self.graph

    def _start_entry(self, name: str) -> None:
        self.graph = LayerGraph(name)
        self.data_format, self.format_explicit = self.module_format, self.module_format_explicit
        self.stack = []
        self.inlined = set()
        self.models = []
        self.sequentials = []
        self.steps = 0

    def _run_entry(self, body: Any) -> None:
        try:
            body()
        except BudgetExceeded as stopped:
            # The entry keeps what it traced; the file's budget says it was cut short.
            watch = budget.current()
            if watch is not None:
                watch.record(self.graph.name, str(stopped))
        for model in self.sequentials:
            if not model.applied:
                out = self._apply_sequential(model, self._placeholder_tensor(model.input_rank))
                self._mark_outputs([out])

    def _bind_entry_parameters(self, node: cst.FunctionDef, frame: Frame, skip_self: bool) -> None:
        params = list(node.params.posonly_params) + list(node.params.params) + list(node.params.kwonly_params)
        if skip_self and params:
            frame.vars[params[0].name.value] = frame.instance
            params = params[1:]
        for param in params:
            name = param.name.value
            if param.default is not None:
                value = self.eval(param.default, Frame(self.globals))
                frame.vars[name] = Default(value.value) if isinstance(value, Const) else value
            else:
                frame.vars[name] = Unknown(name)
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                frame.vars[star.name.value] = Unknown(star.name.value)

    def _scope(self, frame: Frame) -> dict[str, Any] | None:
        """The names a function or class defined in ``frame`` reads: the enclosing call's, or,
        in a module loaded for tracing, that module's globals (None: the linted module's)."""
        return frame.vars if frame.vars is not self.globals or self.library else None

    def mark_traced(self, node: cst.CSTNode) -> None:
        if not self.conditional:
            self.inlined.add(id(node))

    def record_model(self, name: str, inputs: Any, outputs: Any) -> None:
        """Remember a model this entry builds, so that its layers can be judged apart from others'."""
        if not name:
            function = next((n for n in reversed(self.stack) if isinstance(n, cst.FunctionDef)), None)
            name = function.name.value if function is not None else self.graph.name
        self.models.append(ModelSpan(name, _node_ids(inputs), _node_ids(outputs)))

    def _mark_outputs(self, values: Iterable[Any]) -> None:
        for value in values:
            for tensor in tensors_in(value):
                self.graph.outputs.update(tensor.nodes)

    # --------------------------------------------------------------- statements

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded(f"more than {MAX_STEPS:,} steps")
        if len(self.graph.nodes) > MAX_NODES:
            raise BudgetExceeded(f"more than {MAX_NODES:,} layer applications")
        if self.steps % 512 == 0:
            watch = budget.current()
            reason = watch.exceeded() if watch is not None else None
            if reason is not None:
                raise BudgetExceeded(reason)

    def exec_block(self, statements: Iterable[cst.BaseStatement | cst.BaseSmallStatement], frame: Frame) -> None:
        for stmt in statements:
            if frame.stopped:
                return
            self._tick()
            self.exec_statement(stmt, frame)

    def exec_statement(self, stmt: cst.CSTNode, frame: Frame) -> None:
        # Exact types (LibCST's node classes have no subclasses): ``isinstance`` against them
        # runs ABCMeta's check for every statement that is not the first type asked.
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            self.statement = stmt
            for small in stmt.body:
                if frame.stopped:
                    return
                self.exec_small(small, frame)
        elif kind is cst.FunctionDef:
            frame.vars[stmt.name.value] = Function(stmt, None, self._scope(frame))
        elif kind is cst.ClassDef:
            frame.vars[stmt.name.value] = LocalClass(stmt, self._scope(frame))
        elif kind is cst.If:
            self.exec_if(stmt, frame)
        elif kind is cst.For:
            self.exec_for(stmt, frame)
        elif kind is cst.While:
            self.exec_loop_body(stmt.body, frame, passes=UNKNOWN_LOOP_PASSES)
        elif kind is cst.With:
            for item in stmt.items:
                value = self.eval(item.item, frame)
                if item.asname is not None:
                    self.assign(item.asname.name, value, frame)
            self.exec_block(stmt.body.body, frame)
        elif kind is cst.Try or kind is cst.TryStar:
            self.exec_block(stmt.body.body, frame)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, frame)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, frame)
        elif kind is cst.Match:
            pass  # too dynamic to follow; names it binds stay as they were

    def exec_small(self, small: cst.BaseSmallStatement, frame: Frame) -> None:
        kind = type(small)  # exact types, as in ``exec_statement``
        if kind is cst.Assign:
            value = self.eval(small.value, frame)
            names = self.names_of(small.value, frame)
            for target in small.targets:
                self.assign(target.target, value, frame)
                self.remember_names(target.target, names, frame)
        elif kind is cst.AnnAssign:
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, frame), frame)
        elif kind is cst.AugAssign:
            current = self.eval(small.target, frame)
            operator_ = _AUGMENTED.get(type(small.operator))
            value = self.binary(operator_, current, self.eval(small.value, frame), small) \
                if operator_ is not None else Unknown("augmented assignment")
            self.assign(small.target, value, frame)
        elif kind is cst.Expr:
            self.eval(small.value, frame)
        elif kind is cst.Return:
            frame.returns.append(self.eval(small.value, frame) if small.value is not None else Const(None))
            frame.stopped = True
        elif kind in _STOPPING:
            frame.stopped = True
        elif kind is cst.Import:
            for alias in small.names:
                dotted = custom_layers.dotted_name(alias.name) or ""
                if alias.asname is not None:
                    self.assign(alias.asname.name, self.imported(dotted), frame)
                else:
                    root = dotted.split(".", 1)[0]
                    frame.vars[root] = self.imported(root)
        elif kind is cst.ImportFrom:
            self.exec_import_from(small, frame)
        elif kind is cst.Global:
            frame.global_names.update(item.name.value for item in small.names)
        # ``nonlocal``, ``pass``, ``del``, ``assert``: nothing to follow

    def names_of(self, expr: cst.BaseExpression, frame: Frame) -> tuple[str, ...]:
        """The names a value came through: its own, then those it was bound from."""
        kind = type(expr)  # exact types, as in ``exec_statement``: asked for every argument
        if kind is cst.Name and expr.value not in ("True", "False", "None"):
            earlier = frame.vars.get(NAMES_OF + expr.value)
            return (expr.value, *(earlier if isinstance(earlier, tuple) else ()))[:MAX_NAMES]
        if kind is cst.Attribute:
            owner = frame.vars.get(expr.value.value) if type(expr.value) is cst.Name else None
            earlier = owner.attribute_names.get(expr.attr.value, ()) if isinstance(owner, Instance) else ()
            return (expr.attr.value, *earlier)[:MAX_NAMES]
        if kind is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
            key = expr.slice[0].slice.value
            if type(key) is cst.SimpleString:  # ``config["bn_momentum"]``
                return (key.raw_value,)
        return ()

    def remember_names(self, target: cst.BaseExpression, names: tuple[str, ...], frame: Frame) -> None:
        if type(target) is cst.Name:
            if names:
                frame.vars[NAMES_OF + target.value] = names
            else:
                frame.vars.pop(NAMES_OF + target.value, None)
        elif type(target) is cst.Attribute and type(target.value) is cst.Name:
            owner = frame.vars.get(target.value.value)
            if isinstance(owner, Instance):
                owner.attribute_names[target.attr.value] = names

    def exec_import_from(self, small: cst.ImportFrom, frame: Frame) -> None:
        module = custom_layers.dotted_name(small.module) if small.module is not None else ""
        dots = "".join(d.__class__.__name__ == "Dot" and "." or "" for d in small.relative)
        base = f"{dots}{module or ''}"
        if isinstance(small.names, cst.ImportStar):
            self.star_imports.append(base)
            return
        if base.startswith(".") and self.project is not None:
            base = self.project.absolute(base, *self.module_name) or base
        for alias in small.names:
            name = custom_layers.dotted_name(alias.name) or ""
            target = alias.asname.name if alias.asname is not None else cst.Name(name)
            qualified = f"{base}.{name}" if base and not base.endswith(".") else f"{base}{name}"
            self.assign(target, self.imported(qualified), frame)

    def imported(self, dotted: str) -> Ref:
        """An imported name: a module of this project (traced when called), or an outside name."""
        if self.project is not None and not dotted.startswith(".") and self.project.is_project_name(dotted):
            return ProjectRef(dotted)
        return Ref(dotted)

    def project_value(self, ref: ProjectRef) -> Any:
        """What a project name is, its module loaded and its top level run, or None."""
        if self.project is None or len(self.stack) >= MAX_CALL_DEPTH:
            return None
        value = self.project.lookup(ref.qualname, self._run_project_module)
        return None if isinstance(value, ProjectRef) and value.qualname == ref.qualname else value

    def _run_project_module(self, loaded: LoadedModule) -> dict[str, Any]:
        name = (loaded.name, loaded.path.name == "__init__.py")
        interpreter = Interpreter(loaded.module, self.configured_format, self.project, name)
        interpreter.run_module()
        return interpreter.globals

    def exec_if(self, stmt: cst.If, frame: Frame) -> None:
        test = self.eval(stmt.test, frame)
        decided = _truth(test)
        orelse = stmt.orelse
        if decided is True:
            self.exec_block(stmt.body.body, frame)
            return
        if decided is False:
            self._exec_else(orelse, frame)
            return
        instances = [v for v in frame.vars.values() if isinstance(v, Instance)]
        if frame.instance is not None and frame.instance not in instances:
            instances.append(frame.instance)
        before = [dict(i.attributes) for i in instances]
        self.conditional += 1
        try:
            branch = Frame(_BranchVariables(frame.vars), frame.instance, frame.global_names)
            self.exec_block(stmt.body.body, branch)
            after_branch = [dict(i.attributes) for i in instances]
            for instance, attributes in zip(instances, before):
                instance.attributes = dict(attributes)
            other = Frame(_BranchVariables(frame.vars), frame.instance, frame.global_names)
            self._exec_else(orelse, other)
        finally:
            self.conditional -= 1
        for instance, first in zip(instances, after_branch):
            second = instance.attributes
            for name in set(first) | set(second):
                if name in first and name in second:
                    second[name] = merge_values(first[name], second[name])
                elif name in first:
                    second[name] = first[name]
        frame.returns.extend(branch.returns + other.returns)
        if branch.stopped and other.stopped:
            frame.stopped = True
        live = [b for b in (branch, other) if not b.stopped] or [branch, other]
        for name in self._rebound_names(frame.vars, live):
            values = [b.vars[name] for b in live if name in b.vars]
            merged = values[0]
            for value in values[1:]:
                merged = merge_values(merged, value)
            frame.vars[name] = merged

    def _rebound_names(self, base: dict[str, Any], branches: list[Frame]) -> set[str]:
        """The names whose value some branch changed from ``base``'s: only those need merging.

        A frame can hold hundreds of names (every module global, or, in a helper of another
        module, that module's globals), so each branch's variables remember the names the
        branch bound, and only those are compared. The module's globals are compared in full:
        a function the branch calls can rebind them through ``global``, behind the branch's back.
        """
        def candidates(variables: Any) -> Iterable[str]:
            return variables if base is self.globals else variables.bound
        return {name for b in branches for name in candidates(b.vars)
                if name in b.vars and base.get(name, _UNBOUND) is not b.vars[name]}

    def _exec_else(self, orelse: cst.If | cst.Else | None, frame: Frame) -> None:
        if type(orelse) is cst.If:
            self.exec_if(orelse, frame)
        elif type(orelse) is cst.Else:
            self.exec_block(orelse.body.body, frame)

    def exec_for(self, stmt: cst.For, frame: Frame) -> None:
        items = self.iterate(self.eval(stmt.iter, frame))
        if items is None:
            self.assign(stmt.target, Unknown("<loop variable>"), frame)
            self.exec_loop_body(stmt.body, frame, passes=UNKNOWN_LOOP_PASSES)
            return
        for item in items:
            self.assign(stmt.target, item, frame)
            self.exec_loop_body(stmt.body, frame, passes=1)
            if frame.stopped:
                return

    def exec_loop_body(self, body: cst.BaseSuite, frame: Frame, passes: int) -> None:
        for _ in range(passes):
            inner = Frame(frame.vars, frame.instance, frame.global_names)
            self.exec_block(body.body, inner)
            frame.returns.extend(inner.returns)

    def iterate(self, value: Any) -> list[Any] | None:
        if isinstance(value, Seq) and len(value.items) <= MAX_UNROLL:
            return list(value.items)
        if isinstance(value, Const) and isinstance(value.value, (tuple, list, str, range)):
            items = list(value.value)
            return [Const(v) for v in items] if len(items) <= MAX_UNROLL else None
        if isinstance(value, Mapping):
            return [Const(k) for k in value.items]
        return None

    def assign(self, target: cst.BaseExpression, value: Any, frame: Frame) -> None:
        kind = type(target)  # exact types, as in ``exec_statement``
        if kind is cst.Name:
            frame.vars[target.value] = value
            if target.value in frame.global_names:
                self.globals[target.value] = value  # later calls of other functions see it
        elif kind is cst.Tuple or kind is cst.List:
            elements = target.elements
            items = _unpack(value, len(elements))
            for element, item in zip(elements, items):
                self.assign(element.value, item, frame)
        elif kind is cst.Attribute and type(target.value) is cst.Name:
            owner = frame.vars.get(target.value.value)
            if isinstance(owner, Instance):
                owner.attributes[target.attr.value] = value
        elif kind is cst.Subscript:
            container = self.eval(target.value, frame)
            key = _subscript_key(target, self, frame)
            if isinstance(container, Mapping) and isinstance(key, Const) and isinstance(key.value, str):
                container.items[key.value] = value

    # -------------------------------------------------------------- expressions

    def eval(self, expr: cst.BaseExpression | None, frame: Frame) -> Any:
        if expr is None:
            return Const(None)
        method = _EVALUATORS.get(type(expr))
        if method is None:
            return Unknown(type(expr).__name__)
        return method(self, expr, frame)

    def _eval_Name(self, expr: cst.Name, frame: Frame) -> Any:
        name = expr.value
        if name in frame.vars:
            return frame.vars[name]
        if name in self.globals:
            return self.globals[name]
        if name in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[name])
        if name in ("range", "enumerate", "zip", "len", "int", "float", "list", "tuple", "max", "min", "isinstance",
                    "super", "getattr", "dict", "reversed"):
            return Ref(f"builtins.{name}")
        for module in self.star_imports:
            if keras_api.resolve(f"{module}.{name}") is not None:
                return Ref(f"{module}.{name}")
        return Unknown(name)

    def _eval_Integer(self, expr: cst.Integer, frame: Frame) -> Any:
        return _literal(expr.value)

    def _eval_Float(self, expr: cst.Float, frame: Frame) -> Any:
        return _literal(expr.value)

    def _eval_SimpleString(self, expr: cst.SimpleString, frame: Frame) -> Any:
        return _literal(expr.value)

    def _eval_ConcatenatedString(self, expr: cst.ConcatenatedString, frame: Frame) -> Any:
        left, right = self.eval(expr.left, frame), self.eval(expr.right, frame)
        if isinstance(left, Const) and isinstance(right, Const) and isinstance(left.value, type(right.value)):
            return Const(left.value + right.value)
        return Unknown("string")

    def _eval_UnaryOperation(self, expr: cst.UnaryOperation, frame: Frame) -> Any:
        value = self.eval(expr.expression, frame)
        if isinstance(expr.operator, cst.Not):
            truth = _truth(value)
            return Unknown("not") if truth is None else Const(not truth)
        if isinstance(value, Const) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            if isinstance(expr.operator, cst.Minus):
                return Const(-value.value)
            if isinstance(expr.operator, cst.Plus):
                return value
        return Unknown("unary")

    def _eval_BinaryOperation(self, expr: cst.BinaryOperation, frame: Frame) -> Any:
        return self.binary(expr.operator, self.eval(expr.left, frame), self.eval(expr.right, frame), expr)

    def binary(self, op: cst.CSTNode, left: Any, right: Any, expr: cst.CSTNode) -> Any:
        if is_tensor(left) or is_tensor(right):
            return self.tensor_arithmetic(op, left, right, expr)
        if isinstance(left, Const) and isinstance(right, Const):
            fn = _BINARY.get(type(op))
            if fn is not None:
                sequences = (str, bytes, tuple, list)
                if isinstance(left.value, sequences) != isinstance(right.value, sequences):
                    return Unknown("sequence arithmetic")  # ``"a" * n`` could be huge; nothing needs it
                if not _small_enough_to_fold(op, left.value, right.value):
                    return Unknown("arithmetic too large to fold")
                try:
                    return Const(fn(left.value, right.value))
                except Exception:
                    return Unknown("arithmetic")
        if isinstance(left, Seq) and isinstance(right, Seq) and isinstance(op, cst.Add):
            if len(left.items) + len(right.items) > MAX_FOLDED_LENGTH:
                return Unknown("sequence too long to fold")
            return Seq(left.items + right.items, left.is_tuple)
        return Unknown("arithmetic")

    def tensor_arithmetic(self, op: cst.CSTNode, left: Any, right: Any, expr: cst.CSTNode) -> Any:
        """``x + y`` of two tensors is an Add; ``x * w`` with a weight is a scale op."""
        tensors = [v for v in (left, right) if is_tensor(v)]
        others = [v for v in (left, right) if not is_tensor(v)]
        if len(tensors) == 2:
            merge = {cst.Add: "Add", cst.Subtract: "Subtract", cst.Multiply: "Multiply"}.get(type(op))
            if merge is None:
                return self.opaque_node([left, right], expr, "Unknown")
            return self.add_layer_node(merge, Arguments(), expr, [(left, expr), (right, expr)], label=merge)
        constant = others[0]
        if isinstance(op, cst.Multiply) and isinstance(constant, (Const, Weight)):
            return self.add_layer_node("Scale", Arguments(keywords={"bias": Const(False)}), expr,
                                       [(tensors[0], expr)], label="multiply")
        return self.opaque_node(tensors, expr, "Unknown")

    def _eval_BooleanOperation(self, expr: cst.BooleanOperation, frame: Frame) -> Any:
        left = self.eval(expr.left, frame)
        truth = _truth(left)
        is_and = isinstance(expr.operator, cst.And)
        if truth is not None:
            if is_and and not truth or not is_and and truth:
                return left
            return self.eval(expr.right, frame)
        right = self.eval(expr.right, frame)
        right_truth = _truth(right)
        if is_and and right_truth is False:
            return Const(False)
        if not is_and and right_truth is True:
            return right
        return Unknown("boolean")

    def _eval_Comparison(self, expr: cst.Comparison, frame: Frame) -> Any:
        left = self.eval(expr.left, frame)
        result, soft = True, False
        for target in expr.comparisons:
            right = self.eval(target.comparator, frame)
            fn = _COMPARE.get(type(target.operator))
            if not (isinstance(left, Const) and isinstance(right, Const)) or fn is None:
                return Unknown("comparison")
            try:
                result = result and bool(fn(left.value, right.value))
            except Exception:
                return Unknown("comparison")
            soft = soft or isinstance(left, Default) or isinstance(right, Default)
            left = right
        return Default(result) if soft else Const(result)

    def _eval_IfExp(self, expr: cst.IfExp, frame: Frame) -> Any:
        truth = _truth(self.eval(expr.test, frame))
        if truth is True:
            return self.eval(expr.body, frame)
        if truth is False:
            return self.eval(expr.orelse, frame)
        body, orelse = self.eval(expr.body, frame), self.eval(expr.orelse, frame)
        if is_tensor(body) and is_tensor(orelse):
            return merge_values(body, orelse)
        return Unknown("conditional")

    def _eval_Tuple(self, expr: cst.Tuple, frame: Frame) -> Any:
        return self._sequence(expr.elements, frame, is_tuple=True)

    def _eval_List(self, expr: cst.List, frame: Frame) -> Any:
        return self._sequence(expr.elements, frame, is_tuple=False)

    def _sequence(self, elements: Iterable[cst.BaseElement], frame: Frame, is_tuple: bool) -> Any:
        items: list[Any] = []
        for element in elements:
            value = self.eval(element.value, frame)
            if type(element) is cst.StarredElement:
                expanded = self.iterate(value)
                if expanded is None:
                    return Unknown("starred")
                items.extend(expanded)
            else:
                items.append(value)
        return Seq(items, is_tuple)

    def _eval_Dict(self, expr: cst.Dict, frame: Frame) -> Any:
        items: dict[str, Any] = {}
        for element in expr.elements:
            if type(element) is not cst.DictElement:
                spread = self.eval(element.value, frame)
                if not isinstance(spread, Mapping):
                    return Unknown("dict")
                items.update(spread.items)
                continue
            key = self.eval(element.key, frame)
            if not (isinstance(key, Const) and isinstance(key.value, str)):
                return Unknown("dict")
            items[key.value] = self.eval(element.value, frame)
        return Mapping(items)

    def _eval_Attribute(self, expr: cst.Attribute, frame: Frame) -> Any:
        base = self.eval(expr.value, frame)
        name = expr.attr.value
        if isinstance(base, Ref):
            return base.attr(name)
        if isinstance(base, Instance):
            if name in base.attributes:
                return base.attributes[name]
            method = custom_layers.methods(base.cls).get(name)
            if method is not None:
                return Function(method, base, base.scope)
            found = self.class_attribute(base.cls, name, f"self.{name}")
            if isinstance(found, Unknown) and "__getattr__" in custom_layers.methods(base.cls):
                # an object that forwards attribute lookups, standing in for the layers module
                return namespaces.keras_attribute(expr.value, name) or found
            return found
        if isinstance(base, LocalClass):
            return self.class_attribute(base.node, name, name)
        if isinstance(base, SequentialModel) and name == "add":
            return BoundBuiltin("sequential.add", base)
        if isinstance(base, Seq) and name in ("append", "extend", "insert", "pop"):
            return BoundBuiltin(f"list.{name}", base)
        if isinstance(base, Mapping) and name in ("get", "items", "keys", "values", "update"):
            return BoundBuiltin(f"dict.{name}", base)
        if isinstance(base, Unknown) or isinstance(base, Const) and base.value is None:
            # ``layers = None`` at module level, filled in through ``global`` by a factory
            return namespaces.keras_attribute(expr.value, name) or Unknown(name)
        return Unknown(name)

    def class_attribute(self, cls: cst.ClassDef, name: str, expression: str) -> Any:
        """A constant bound in a class body: a class attribute, or a dataclass field's default."""
        body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
        found: cst.BaseExpression | None = None
        for stmt in body:  # exact types, as in ``exec_statement``: asked for each ``self.<name>`` read
            if type(stmt) is not cst.SimpleStatementLine:
                continue
            for small in stmt.body:
                if type(small) is cst.Assign and len(small.targets) == 1:
                    target, value = small.targets[0].target, small.value
                elif type(small) is cst.AnnAssign and small.value is not None:
                    target, value = small.target, small.value
                else:
                    continue
                if type(target) is cst.Name and target.value == name:
                    found = value
        if isinstance(found, cst.Call) and custom_layers.dotted_name(found.func) in ("field", "dataclasses.field"):
            found = next((a.value for a in found.args if a.keyword is not None and a.keyword.value == "default"), None)
        if found is None:
            return Unknown(expression)
        value = self.eval(found, Frame(self.globals))
        return value if isinstance(value, (Const, Seq)) else Unknown(expression)

    def _eval_Subscript(self, expr: cst.Subscript, frame: Frame) -> Any:
        base = self.eval(expr.value, frame)
        key = _subscript_key(expr, self, frame)
        if isinstance(base, Seq) and isinstance(key, Const) and isinstance(key.value, int):
            try:
                return base.items[key.value]
            except IndexError:
                return Unknown("index")
        if isinstance(base, Seq) and isinstance(key, Const) and isinstance(key.value, slice):
            return Seq(base.items[key.value], base.is_tuple)
        if isinstance(base, Mapping) and isinstance(key, Const) and key.value in base.items:
            return base.items[key.value]
        if isinstance(base, Const) and isinstance(key, Const):
            try:
                return Const(base.value[key.value])
            except Exception:
                return Unknown("index")
        if isinstance(base, TensorList):
            return Tensor(base.nodes)  # ``states[0]``: one of the states
        if is_tensor(base):
            return self.opaque_node([base], expr, "Unknown")
        return Unknown("subscript")

    def _eval_ListComp(self, expr: cst.ListComp, frame: Frame) -> Any:
        """``[layers.BatchNormalization() for _ in range(3)]`` over a known iterable."""
        items: list[Any] = []
        inner = Frame(dict(frame.vars), frame.instance)
        if not self._comprehend(expr.elt, expr.for_in, inner, items):
            return Unknown("comprehension")
        return Seq(items)

    def _comprehend(self, element: cst.BaseExpression, clause: cst.CompFor, frame: Frame, out: list[Any]) -> bool:
        values = self.iterate(self.eval(clause.iter, frame))
        if values is None:
            return False
        for value in values:
            self.assign(clause.target, value, frame)
            conditions = [_truth(self.eval(condition.test, frame)) for condition in clause.ifs]
            if None in conditions:
                return False
            if not all(conditions):
                continue
            if clause.inner_for_in is not None:
                if not self._comprehend(element, clause.inner_for_in, frame, out):
                    return False
            elif len(out) < MAX_UNROLL:
                out.append(self.eval(element, frame))
            else:
                return False
        return True

    def _eval_NamedExpr(self, expr: cst.NamedExpr, frame: Frame) -> Any:
        value = self.eval(expr.value, frame)
        self.assign(expr.target, value, frame)
        return value

    def _eval_Lambda(self, expr: cst.Lambda, frame: Frame) -> Any:
        return LambdaValue(expr)

    # -------------------------------------------------------------------- calls

    def evaluate_arguments(self, args: Iterable[cst.Arg], frame: Frame) -> Arguments:
        result = Arguments()
        for arg in args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    result.open_positional = True
                else:
                    result.positional.extend(items)
                    result.positional_exprs.extend([None] * len(items))
            elif arg.star == "**":
                if isinstance(value, Mapping):
                    result.keywords.update(value.items)
                else:
                    result.open_keywords = True
            elif arg.keyword is not None:
                result.keywords[arg.keyword.value] = value
                result.keyword_exprs[arg.keyword.value] = arg.value
                result.names[arg.keyword.value] = self.names_of(arg.value, frame)
            else:
                result.names[len(result.positional)] = self.names_of(arg.value, frame)
                result.positional.append(value)
                result.positional_exprs.append(arg.value)
        return result

    def _eval_Call(self, expr: cst.Call, frame: Frame) -> Any:
        self._tick()
        callee = self.eval(expr.func, frame)
        arguments = self.evaluate_arguments(expr.args, frame)
        return self.call(callee, arguments, expr, frame)

    def call(self, callee: Any, arguments: Arguments, expr: cst.Call, frame: Frame) -> Any:
        if isinstance(callee, Partial):
            merged = Arguments(
                positional=callee.arguments.positional + arguments.positional,
                positional_exprs=callee.arguments.positional_exprs + arguments.positional_exprs,
                keywords={**callee.arguments.keywords, **arguments.keywords},
                keyword_exprs={**callee.arguments.keyword_exprs, **arguments.keyword_exprs},
                names={**{k: v for k, v in callee.arguments.names.items() if isinstance(k, str)},
                       **{k + len(callee.arguments.positional) if isinstance(k, int) else k: v
                          for k, v in arguments.names.items()},
                       **{k: v for k, v in callee.arguments.names.items() if isinstance(k, int)}},
                open_positional=callee.arguments.open_positional or arguments.open_positional,
                open_keywords=callee.arguments.open_keywords or arguments.open_keywords,
            )
            return self.call(callee.callee, merged, expr, frame)
        if isinstance(callee, Ref):
            return self.call_api(callee, arguments, expr, frame)
        if isinstance(callee, LayerObject):
            return self.apply_layer(callee, arguments, expr)
        if isinstance(callee, SequentialModel):
            callee.applied = True
            inputs = arguments.positional[0] if arguments.positional else Unknown("input")
            return self._apply_sequential(callee, self.as_tensor(inputs))
        if isinstance(callee, FunctionalModel):
            return self.opaque_node(arguments.positional, expr, "Model")
        if isinstance(callee, Function):
            return self.inline(callee, arguments, expr)
        if isinstance(callee, LocalClass):
            return self.instantiate(callee.node, arguments, expr, callee.scope)
        if isinstance(callee, Instance):
            call = custom_layers.methods(callee.cls).get("call") or custom_layers.methods(callee.cls).get("__call__")
            if call is not None:
                self.mark_traced(callee.cls)  # applied here: not a model of its own
                return self.inline(Function(call, callee, callee.scope), arguments, expr)
        if isinstance(callee, BoundBuiltin):
            return self.call_builtin(callee, arguments)
        return self.opaque_node(tensors_in_args(arguments), expr, "Unknown")

    def apply_callable(self, callee: Any, tensor: Any, origin: cst.CSTNode | None) -> Any:
        return self.call(callee, Arguments([tensor], [None]), origin, Frame(self.globals))  # type: ignore[arg-type]

    def call_builtin(self, callee: BoundBuiltin, arguments: Arguments) -> Any:
        receiver = callee.receiver
        if callee.name == "sequential.add" and arguments.positional:
            receiver.layers.append((arguments.positional[0], "model-add", self.statement))
        elif callee.name == "list.append" and arguments.positional:
            receiver.items.append(arguments.positional[0])
        elif callee.name == "list.extend" and arguments.positional:
            items = self.iterate(arguments.positional[0])
            receiver.items.extend(items or [Unknown("extend")])
        elif callee.name == "list.pop":
            index = arguments.positional[0] if arguments.positional else Const(-1)
            if isinstance(index, Const) and isinstance(index.value, int) and -len(receiver.items) <= index.value < len(receiver.items):
                return receiver.items.pop(index.value)
            return Unknown("pop")
        elif callee.name == "list.insert" and len(arguments.positional) == 2:
            index = arguments.positional[0]
            if isinstance(index, Const) and isinstance(index.value, int):
                receiver.items.insert(index.value, arguments.positional[1])
        elif callee.name == "dict.get" and arguments.positional:
            key = arguments.positional[0]
            if isinstance(key, Const) and key.value in receiver.items:
                return receiver.items[key.value]
            return arguments.positional[1] if len(arguments.positional) > 1 else Const(None)
        elif callee.name == "dict.update" and arguments.positional and isinstance(arguments.positional[0], Mapping):
            receiver.items.update(arguments.positional[0].items)
        elif callee.name == "dict.keys":
            return Seq([Const(k) for k in receiver.items])
        elif callee.name == "dict.values":
            return Seq(list(receiver.items.values()))
        elif callee.name == "dict.items":
            return Seq([Seq([Const(k), v], True) for k, v in receiver.items.items()])
        return Const(None)

    def call_api(self, callee: Ref, arguments: Arguments, expr: cst.Call, frame: Frame) -> Any:
        qualname = callee.qualname
        if qualname.startswith("builtins."):
            return self.call_python_builtin(qualname[9:], arguments, expr)
        entry = keras_api.resolve(qualname)
        if entry is None:
            value = self.project_value(callee) if isinstance(callee, ProjectRef) else None
            if value is not None and not isinstance(value, (Const, Unknown)):
                return self.call(value, arguments, expr, frame)
            return self.opaque_node(tensors_in_args(arguments), expr, "Unknown")
        kind = entry.kind
        if kind == "layer":
            layer = LayerObject(entry.op, arguments, expr, entry.label,
                                positional_names=POSITIONAL_PARAMETERS.get(entry.op, ()),
                                global_format=self.data_format)
            if entry.op == "BatchNormalization":
                layer.scope_names = BoundNames(frame, self.globals)
                self.constructed_norms.setdefault(id(expr), layer)
            return layer
        if kind == "input":
            return self.input_tensor(arguments, expr)
        if kind == "lambda_layer":
            return self.lambda_layer(arguments, expr)
        if kind == "sequential":
            name = arguments.keywords.get("name")
            model = SequentialModel(expr, name=name.value if isinstance(name, Const) and isinstance(name.value, str) else "")
            layers = arguments.positional[0] if arguments.positional else arguments.keywords.get("layers")
            if isinstance(layers, Seq):
                list_node = expr.args[0].value if expr.args and isinstance(expr.args[0].value, cst.List) else None
                for index, layer in enumerate(layers.items):
                    site = list_node.elements[index] if list_node is not None and index < len(list_node.elements) else None
                    model.layers.append((layer, "sequential-list", site))
            self.sequentials.append(model)
            return model
        if kind == "model":
            outputs = arguments.keywords.get("outputs")
            if outputs is None and len(arguments.positional) > 1:
                outputs = arguments.positional[1]
            inputs = arguments.keywords.get("inputs", arguments.positional[0] if arguments.positional else None)
            name = arguments.keywords.get("name")
            self.record_model(name.value if isinstance(name, Const) and isinstance(name.value, str) else "",
                              inputs, outputs)
            self._mark_outputs([outputs])
            tensors = list(tensors_in(outputs))
            return FunctionalModel(tensors[0] if tensors else None)
        if kind == "merge" or kind == "concat":
            return self.apply_merge(entry, arguments, expr)
        if kind == "activation":
            inputs = arguments.positional[:1]
            if not inputs or not is_tensor(inputs[0]) and not isinstance(inputs[0], Unknown):
                return Unknown("activation")
            keywords = {"activation": Const(entry.label)}
            if entry.label == "leaky_relu":
                keywords["negative_slope"] = arguments.keywords.get("alpha", arguments.keywords.get("negative_slope", Const(0.2)))
            return self.add_layer_node("Activation", Arguments(keywords=keywords), expr,
                                       [(inputs[0], expr.args[0].value)], label=entry.label)
        if kind == "tf1_layer":
            if not arguments.positional:
                return Unknown(entry.label)
            tensor, rest = arguments.positional[0], arguments.positional[1:]
            layer_args = Arguments(rest, arguments.positional_exprs[1:], dict(arguments.keywords),
                                   dict(arguments.keyword_exprs), arguments.open_positional, arguments.open_keywords)
            layer = LayerObject(entry.op, layer_args, expr, entry.label,
                                positional_names=POSITIONAL_PARAMETERS.get(entry.op, ()))
            return self.apply_layer(layer, Arguments([tensor], arguments.positional_exprs[:1]), expr)
        if kind == "set_format":
            value = arguments.positional[0] if arguments.positional else arguments.keywords.get("data_format")
            self.data_format = DataFormat.parse(value.value) if isinstance(value, Const) else DataFormat.UNKNOWN
            self.format_explicit = True
            return Const(None)
        if kind == "get_format":
            return GLOBAL_DATA_FORMAT
        if kind == "partial" and arguments.positional:
            rest = Arguments(arguments.positional[1:], arguments.positional_exprs[1:], arguments.keywords,
                             arguments.keyword_exprs, arguments.open_positional, arguments.open_keywords)
            return Partial(arguments.positional[0], rest)
        if kind == "weight":
            return WEIGHT
        if kind in ("application", "load_model"):
            tensors = tensors_in_args(arguments)
            if tensors:
                return self.opaque_node(tensors, expr, "Model")
            return LayerObject("Model", arguments, expr, entry.label)
        return Unknown(qualname)

    def lambda_layer(self, arguments: Arguments, expr: cst.Call) -> LayerObject:
        """``Lambda(lambda t: t * w)`` is a scale op; ``Lambda(tf.nn.relu)`` an activation."""
        function = arguments.positional[0] if arguments.positional else arguments.keywords.get("function")
        if isinstance(function, LambdaValue):
            shape = custom_layers.lambda_scale_shape(function.node)
            if shape is not None:
                return LayerObject("Scale", Arguments(keywords={"bias": Const(shape.adds_bias)}), expr, "Lambda")
        if isinstance(function, Ref):
            entry = keras_api.resolve(function.qualname)
            if entry is not None and entry.kind == "activation":
                return LayerObject("Activation", Arguments(keywords={"activation": Const(entry.label)}), expr, "Lambda")
        return LayerObject("Unknown", Arguments(), expr, "Lambda")

    def call_python_builtin(self, name: str, arguments: Arguments, expr: cst.Call) -> Any:
        values = arguments.positional
        if name == "range" and values and all(isinstance(v, Const) and isinstance(v.value, int) for v in values):
            try:
                numbers = range(*(v.value for v in values))
                count = len(numbers)
            except (TypeError, ValueError, OverflowError):  # len(range(10**20)) overflows
                return Unknown("range")
            return Const(tuple(numbers)) if count <= MAX_UNROLL else Unknown("range")
        if name in ("list", "tuple") and values:
            items = self.iterate(values[0])
            return Seq(items, name == "tuple") if items is not None else Unknown(name)
        if name in ("list", "tuple") and not values:
            return Seq([], name == "tuple")
        if name == "enumerate" and values:
            items = self.iterate(values[0])
            return Seq([Seq([Const(i), v], True) for i, v in enumerate(items)]) if items is not None else Unknown(name)
        if name == "zip" and values:
            columns = [self.iterate(v) for v in values]
            if any(c is None for c in columns):
                return Unknown(name)
            return Seq([Seq(list(row), True) for row in zip(*columns)])  # type: ignore[arg-type]
        if name == "len" and values:
            items = self.iterate(values[0])
            return Const(len(items)) if items is not None else Unknown(name)
        if name in ("int", "float") and values and isinstance(values[0], Const):
            try:
                return Const({"int": int, "float": float}[name](values[0].value))
            except (TypeError, ValueError):
                return Unknown(name)
        if name in ("max", "min") and values and all(isinstance(v, Const) for v in values):
            try:
                return Const((max if name == "max" else min)(*(v.value for v in values)))
            except (TypeError, ValueError):
                return Unknown(name)
        if name == "reversed" and values:
            items = self.iterate(values[0])
            return Seq(items[::-1]) if items is not None else Unknown(name)
        if name == "dict":
            return Mapping(dict(arguments.keywords)) if not arguments.positional else Unknown(name)
        return self.opaque_node(tensors_in_args(arguments), expr, "Unknown")

    # ------------------------------------------------------------ tracing into

    def inline(self, function: Function, arguments: Arguments, expr: cst.Call) -> Any:
        node = function.node
        if len(self.stack) >= MAX_CALL_DEPTH or node in self.stack:
            return self.opaque_node(tensors_in_args(arguments), expr, "Unknown")
        key = self._trace_key(function, arguments)
        if key is not None and len(self.graph.nodes) > MEMO_AFTER_NODES:
            replay = self._traces.get(key)
            if replay is not None:
                return self._replay(replay)
        self.mark_traced(node)
        before = (set(self.inlined), len(self.models), len(self.sequentials), len(self.graph.outputs))
        # A function of this module starts with no names of its own: the module's are read
        # through (``_eval_Name``), not copied into every call, which cost time and memory
        # quadratic in the size of a large module.
        scope = function.closure if function.closure is not None else {}
        frame = Frame(dict(scope), function.owner)
        self.bind_parameters(node, arguments, frame, bound_self=function.owner)
        self.stack.append(node)
        try:
            # A helper's set_image_data_format keeps acting after it returns, as in Keras.
            self.exec_block(_body(node), frame)
        finally:
            self.stack.pop()
        if not frame.returns:
            result: Any = Const(None)
        else:
            result = frame.returns[0]
            for value in frame.returns[1:]:
                result = merge_values(result, value)
        if key is not None and before[1:] == (len(self.models), len(self.sequentials), len(self.graph.outputs)) \
                and _replayable(result):
            self._traces[key] = _Trace(result, self.inlined - before[0], self.data_format, self.format_explicit,
                                       self.statement)
        return result

    # Memoised traces. Eleven levels of helpers that each call the next three
    # times are 3**11 traces; a helper called again with the same abstract
    # arguments (the same layers upstream of its tensors, the same constants, the
    # same data format and branch state) builds the same layers, so once a graph
    # is large its trace is replayed: the earlier result is returned and the
    # trace's side effects (helpers marked as traced, the data format it set) are
    # made again. The work becomes linear in the number of distinct calls. Small
    # graphs, every ordinary model, are traced in full, call by call.

    def _trace_key(self, function: Function, arguments: Arguments) -> tuple[Any, ...] | None:
        """What a helper's trace depends on, or None when it cannot be told (methods, mutable arguments)."""
        if function.owner is not None or function.closure is not None or self.graph.name == "<module>":
            return None  # ``self`` and module globals change between calls
        if getattr(self, "_traces_graph", None) is not self.graph:
            self._traces_graph = self.graph
            self._traces: dict[tuple[Any, ...], _Trace] = {}
            self._ancestry: dict[int, int] = {}
        parts: list[Any] = [id(function.node), self.data_format, self.format_explicit, self.conditional > 0,
                            arguments.open_positional, arguments.open_keywords]
        for name, value in [*((None, v) for v in arguments.positional), *sorted(arguments.keywords.items())]:
            part = self._abstract(value)
            if part is None:
                return None
            parts.append((name, part))
        return tuple(parts)

    def _abstract(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return ("tensor", tuple(sorted(self._node_ancestry(n, ANCESTRY_DEPTH) for n in value.nodes)))
        if isinstance(value, Const):
            try:
                hash(value)
            except TypeError:
                return None
            return ("const", type(value.value), value)
        if isinstance(value, (Unknown, LayerObject, Function)):
            return ("object", id(value))
        if isinstance(value, Ref):
            return ("ref", value.qualname)
        if isinstance(value, Seq) and value.is_tuple:
            items = tuple(self._abstract(item) for item in value.items)
            return None if None in items else ("tuple", items)
        return None

    def _node_ancestry(self, node_id: int, depth: int) -> int:
        """A hash of the layers ``depth`` levels upstream of a node: its op, source and data format."""
        cache_key = node_id * 64 + depth
        known = self._ancestry.get(cache_key)
        if known is not None:
            return known
        node = self.graph.node(node_id)
        upstream = () if depth == 0 else tuple(sorted(
            self._node_ancestry(p.id, depth - 1) for p in self.graph.predecessors(node)))
        found = hash((node.op, id(node.origin), node.data_format, node.conditional, node.rank, upstream))
        self._ancestry[cache_key] = found
        return found

    def _replay(self, trace: _Trace) -> Any:
        self.inlined |= trace.inlined
        self.data_format, self.format_explicit = trace.data_format, trace.format_explicit
        self.statement = trace.statement
        self._tick()
        return Seq(list(trace.result.items), True) if isinstance(trace.result, Seq) else trace.result

    def bind_parameters(self, node: cst.FunctionDef, arguments: Arguments, frame: Frame,
                        bound_self: Instance | None) -> None:
        params = node.params
        positional = list(params.posonly_params) + list(params.params)
        values = list(arguments.positional)
        if bound_self is not None and positional:
            frame.vars[positional[0].name.value] = bound_self
            positional = positional[1:]
        for index, param in enumerate(positional):
            name = param.name.value
            if index < len(values):
                frame.vars[name] = values[index]
                self._bind_names(name, arguments.names.get(index, ()), frame)
            elif name in arguments.keywords:
                frame.vars[name] = arguments.keywords[name]
                self._bind_names(name, arguments.names.get(name, ()), frame)
            elif arguments.open_positional or arguments.open_keywords or param.default is None:
                frame.vars[name] = Unknown(name)
            else:
                frame.vars[name] = self.eval(param.default, Frame(dict(frame.vars)))
                self._bind_names(name, self.names_of(param.default, Frame(self.globals)), frame)
        for param in params.kwonly_params:
            name = param.name.value
            if name in arguments.keywords:
                frame.vars[name] = arguments.keywords[name]
                self._bind_names(name, arguments.names.get(name, ()), frame)
            elif arguments.open_keywords or param.default is None:
                frame.vars[name] = Unknown(name)
            else:
                frame.vars[name] = self.eval(param.default, Frame(dict(frame.vars)))
        if isinstance(params.star_arg, cst.Param):
            extra = values[len(positional):]
            frame.vars[params.star_arg.name.value] = Unknown("*args") if arguments.open_positional else Seq(extra, True)
        if isinstance(params.star_kwarg, cst.Param):
            known = {p.name.value for p in positional} | {p.name.value for p in params.kwonly_params}
            rest = {k: v for k, v in arguments.keywords.items() if k not in known}
            frame.vars[params.star_kwarg.name.value] = Unknown("**kwargs") if arguments.open_keywords else Mapping(rest)

    @staticmethod
    def _bind_names(parameter: str, names: tuple[str, ...], frame: Frame) -> None:
        """A parameter bound from ``bn_eps`` at the call site came through both names."""
        if names:
            frame.vars[NAMES_OF + parameter] = names[:MAX_NAMES]

    def instantiate(self, cls: cst.ClassDef, arguments: Arguments, expr: cst.Call,
                    scope: dict[str, Any] | None = None) -> Any:
        """A local class: a Keras layer by inheritance, a scale op, or a layer to trace into."""
        builtin = self.builtin_base(cls, scope=scope)
        if builtin is not None:
            return LayerObject(builtin, arguments, expr, cls.name.value,
                               positional_names=POSITIONAL_PARAMETERS.get(builtin, ()))
        shape = custom_layers.scale_shape(cls)
        if shape is not None:
            args = Arguments(keywords={"bias": Const(shape.adds_bias)})
            return LayerObject("Scale", args, expr, cls.name.value)
        instance = Instance(cls, scope=scope)
        init = custom_layers.methods(cls).get("__init__")
        if init is not None:
            self.inline(Function(init, instance, scope), arguments, expr)
        return instance

    def builtin_base(self, cls: cst.ClassDef, depth: int = 0, scope: dict[str, Any] | None = None) -> str | None:
        """The Keras layer a local class subclasses, if it subclasses one directly or through local classes."""
        for base in cls.bases:
            value = self.eval(base.value, Frame(scope if scope is not None else self.globals))
            if isinstance(value, Ref):
                entry = keras_api.resolve(value.qualname)
                if entry is not None and entry.kind == "layer":
                    return entry.op
            elif isinstance(value, LocalClass) and depth < 8:
                found = self.builtin_base(value.node, depth + 1, value.scope)
                if found is not None:
                    return found
        return None


# ``eval``'s dispatch, built once: the LibCST node type each ``_eval_<Type>`` method evaluates.
# (Formatting the method's name and looking it up for every expression cost a tenth of the trace.)
_EVALUATORS: dict[type, Any] = {getattr(cst, name[len("_eval_"):]): method
                                for name, method in vars(Interpreter).items() if name.startswith("_eval_")}


# ---------------------------------------------------------------------- helpers

def _body(node: cst.FunctionDef) -> Iterable[cst.BaseStatement | cst.BaseSmallStatement]:
    body = node.body
    return body.body if isinstance(body, cst.IndentedBlock) else body.body


class BoundNames:
    """The names a layer's arguments could have been spelled with where it is constructed
    (``momentum``, ``self.bn_momentum``), looked up only when a rule asks.

    Copying a module's names for each layer built would cost time quadratic in the size
    of a large module.
    """

    __slots__ = ("_variables", "_globals", "_instance")

    def __init__(self, frame: Frame, module_names: dict[str, Any]) -> None:
        self._variables = frame.vars
        self._globals = module_names
        self._instance = frame.instance

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name.startswith("self."):
            return self._instance is not None and name[len("self."):] in self._instance.attributes
        return (name in self._variables or name in self._globals) and not name.startswith(NAMES_OF)


def _node_ids(value: Any) -> frozenset[int]:
    return frozenset(n for tensor in tensors_in(value) for n in tensor.nodes)


def _truth(value: Any) -> bool | None:
    if isinstance(value, Default):
        return None  # a caller may pass another value: both ways are possible
    if isinstance(value, Const):
        try:
            return bool(value.value)
        except Exception:
            return None
    if isinstance(value, Seq):
        return bool(value.items)
    return None


def _unpack(value: Any, count: int) -> list[Any]:
    if isinstance(value, TensorList):
        return [Tensor(value.nodes) for _ in range(count)]  # ``h_prev, c_prev = states``
    if isinstance(value, Seq) and len(value.items) == count:
        return list(value.items)
    if isinstance(value, Const) and isinstance(value.value, (tuple, list)) and len(value.value) == count:
        return [Const(v) for v in value.value]
    return [Unknown("unpacked") for _ in range(count)]


def _subscript_key(expr: cst.Subscript, interp: Interpreter, frame: Frame) -> Any:
    if len(expr.slice) != 1:
        return Unknown("subscript")
    element = expr.slice[0].slice
    if isinstance(element, cst.Index):
        return interp.eval(element.value, frame)
    if isinstance(element, cst.Slice):
        parts = [interp.eval(p, frame) if p is not None else Const(None)
                 for p in (element.lower, element.upper, element.step)]
        if all(isinstance(p, Const) and (p.value is None or isinstance(p.value, int)) for p in parts):
            return Const(slice(*(p.value for p in parts)))
    return Unknown("subscript")


