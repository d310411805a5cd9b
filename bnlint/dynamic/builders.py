"""Finding the models of an imported module and building them, without training or loading anything.

Four kinds, in this order: entry points named in the config (with their
arguments), ``keras.Model`` objects the module made at import, module-level
functions whose parameters all have defaults (called; what they return is
kept when it is a model), and subclassed ``keras.Model`` classes constructible
without arguments that no builder constructed already. A function is only a
candidate when its own code mentions a model or a BatchNormalization: calling
``main()`` or ``train()`` just because it takes no arguments would run far more
than a build.
"""
from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bnlint.dynamic import sandbox
from bnlint.dynamic.recorder import Recorder

_MODEL_WORDS = ("Model", "Sequential", "Input", "BatchNormalization", "Functional")


@dataclass
class Builder:
    name: str
    kind: str  # entry | object | function | class
    line: int
    end_line: int
    status: str = "pending"  # built | not-built
    reason: str = ""
    models: int = 0
    seconds: float = 0.0


def candidates(tree: ast.Module, entries: list[str]) -> list[Builder]:
    """The builders a module's source names: configured entries, its functions, then its classes."""
    classes = [s for s in tree.body if isinstance(s, ast.ClassDef)]
    functions = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    names = {c.name for c in classes}
    # A function that calls a builder is one too (``DenseNet121()`` returns ``DenseNet(...)``).
    builders: set[str] = set()
    while True:
        more = {f.name for f in functions if f.name not in builders and _mentions(f, names | builders)}
        if not more:
            break
        builders |= more
    found = [Builder(text, "entry", 0, 0) for text in entries]
    found += [Builder(f.name, "function", f.lineno, _end(f)) for f in functions if f.name in builders]
    # Classes last: a builder function that constructs one knows its input shape.
    return found + [Builder(c.name, "class", c.lineno, _end(c)) for c in classes]


def _end(node: ast.AST) -> int:
    return getattr(node, "end_lineno", None) or getattr(node, "lineno", 0)


def _mentions(function: ast.AST, names: set[str]) -> bool:
    """The function's code names a Keras model word (``Model``, ``BatchNormalization``) or one of ``names``."""
    for node in ast.walk(function):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
        if name in names or any(word in name for word in _MODEL_WORDS):
            return True
    return False


class ModelBuilder:
    """Runs the builders of one module, recording what each built."""

    def __init__(self, module: Any, recorder: Recorder, input_shape: tuple[int, ...] | None,
                 memory_mb: int) -> None:
        import keras

        self.keras = keras
        self.module = module
        self.recorder = recorder
        self.input_shape = input_shape
        self.memory_mb = memory_mb

    def module_objects(self) -> Iterator[Builder]:
        """The models the module made at import, as built-in-place builders."""
        for name, value in vars(self.module).items():
            if isinstance(value, self.keras.Model):
                builder = Builder(name, "object", 0, 0)
                self._finish(builder, value)
                yield builder

    def run(self, builder: Builder) -> None:
        try:
            if builder.kind == "entry":
                self._finish(builder, self._call_entry(builder.name))
            elif builder.kind == "function":
                self._run_function(builder)
            elif builder.kind == "class":
                self._run_class(builder)
        except Exception as error:  # noqa: BLE001 - the user's code may raise anything; the file goes on
            builder.status, builder.reason = "not-built", sandbox.failure_reason(error, self.memory_mb)
        finally:
            sandbox.ATTEMPTS.reset()

    def _run_function(self, builder: Builder) -> None:
        function = getattr(self.module, builder.name, None)
        if not callable(function) or getattr(function, "__module__", None) != self.module.__name__:
            builder.status, builder.reason = "not-built", "not a function of this module at run time"
            return
        missing = _required_parameters(function)
        if missing:
            builder.status = "not-built"
            builder.reason = (f"{builder.name}() needs arguments ({', '.join(missing)}); "
                              "name it with its arguments in dynamic-entry")
            return
        self._finish(builder, function())

    def _run_class(self, builder: Builder) -> None:
        cls = getattr(self.module, builder.name, None)
        if not (isinstance(cls, type) and issubclass(cls, self.keras.Model)) or \
                cls.__module__ != self.module.__name__:
            builder.status, builder.reason = "skipped", "not a keras.Model subclass"
            return
        if any(type(r.layer) is cls for r in self.recorder.layers):
            builder.status, builder.reason = "skipped", "already constructed by a builder"
            return
        missing = _required_parameters(cls)
        if missing:
            builder.status = "not-built"
            builder.reason = f"{builder.name}() needs arguments ({', '.join(missing)}); name it in dynamic-entry"
            return
        self._finish(builder, cls())

    def _call_entry(self, text: str) -> Any:
        call = ast.parse(text, mode="eval").body
        assert isinstance(call, ast.Call)
        target: Any = self.module
        for part in ast.unparse(call.func).split("."):
            target = getattr(target, part)
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        return target(*args, **kwargs)

    def _finish(self, builder: Builder, result: Any) -> None:
        models = [m for m in _flatten(result) if isinstance(m, self.keras.Model)]
        if not models:
            builder.status = "not-built"
            builder.reason = f"{builder.name} returned no keras.Model"
            return
        for model in models:
            problem = self._ensure_built(model)
            if problem:
                builder.status, builder.reason = "not-built", problem
                return
        builder.status, builder.models = "built", len(models)

    def _ensure_built(self, model: Any) -> str:
        """Build ``model`` on a symbolic input when its code did not; an empty string when built."""
        if _is_built(model):
            return ""
        if self.input_shape is None:
            return "the model has no input shape (set dynamic-input-shape in the config)"
        shape = (None, *self.input_shape)
        if isinstance(model, self.keras.Sequential):
            model.build(shape)
        else:
            # A symbolic call traces ``call`` in a scratch graph: every shape is fixed, no kernel runs.
            model(self.keras.Input(batch_shape=shape))
        return ""


def _is_built(model: Any) -> bool:
    if not getattr(model, "built", False):
        return False
    return all(getattr(layer, "built", True) for layer in getattr(model, "layers", ()))


def _flatten(result: Any) -> list[Any]:
    if isinstance(result, (list, tuple)):
        return [item for part in result for item in _flatten(part)]
    if isinstance(result, dict):
        return [item for part in result.values() for item in _flatten(part)]
    return [result]


def _required_parameters(function: Any) -> list[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    return [p.name for p in signature.parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
