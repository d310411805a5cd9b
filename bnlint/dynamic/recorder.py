"""Which layers the user's file built, where in the file each was constructed, and how tensors flowed.

Runs in the child only. It wraps three Keras methods for the child's lifetime:
``Operation.__init__`` (every layer and op is one) to capture the construction
site, the frame of the user's file that created the layer, so that a built layer
leads back to a source line without guessing from layer names; and
``Operation.__call__`` / ``symbolic_call`` to record each application with the
tensors it took and made. Functional models expose their graph through Keras's
own nodes, but a subclassed model traced on a symbolic input does not, and the
call record serves both alike.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

# Layers whose output keeps its features on the last axis, whatever the data format.
_FEATURES_LAST = {"Dense", "EinsumDense", "Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
                  "MultiHeadAttention", "TimeDistributed", "Flatten"}
# Layers that may move values between axes even when the shape stays the same.
_LAYOUT_BREAKING = {"Reshape", "Permute"}


@dataclass
class LayerRecord:
    index: int
    layer: Any = field(repr=False)
    line: int | None  # the user's file's line that constructed it (None: no frame of that file)
    column: int | None  # 1-based, where Python knows the call's position
    direct: bool  # constructed by the user's own call, not by library code it called
    via: str  # where library code constructed it ("" when direct)
    builder: int  # which builder was running (-1: the module's import)
    data_format: str  # the global image data format when it was constructed


@dataclass
class CallRecord:
    layer: int
    sources: list[int | None]  # per input tensor: the call that produced it, None if none was seen
    input_shapes: list[list[int | None]]
    output_shape: list[int | None] | None
    data_format: str  # the global image data format at call time


class Recorder:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.layers: list[LayerRecord] = []
        self.calls: list[CallRecord] = []
        self.builder = -1
        self._index: dict[int, int] = {}
        self._producer: dict[int, int] = {}
        self._kept: list[Any] = []  # tensors stay alive so that their ids stay unique
        self._active: set[int] = set()
        self._library_dirs = _library_dirs()

    def install(self) -> None:
        from keras.src.layers.layer import Layer
        from keras.src.ops.operation import Operation

        recorder = self
        original_init = Operation.__init__

        def init(operation: Any, *args: Any, **kwargs: Any) -> None:
            original_init(operation, *args, **kwargs)
            recorder.constructed(operation, sys._getframe(1))

        Operation.__init__ = init
        for owner, name in ((Operation, "__call__"), (Operation, "symbolic_call"), (Layer, "__call__")):
            setattr(owner, name, self._recording(getattr(owner, name)))

    def _recording(self, original: Any) -> Any:
        recorder = self

        def call(operation: Any, *args: Any, **kwargs: Any) -> Any:
            key = id(operation)
            if key in recorder._active:  # Layer.__call__ -> Operation.__call__ -> symbolic_call: one call
                return original(operation, *args, **kwargs)
            recorder._active.add(key)
            try:
                outputs = original(operation, *args, **kwargs)
            finally:
                recorder._active.discard(key)
            recorder.called(operation, args, kwargs, outputs)
            return outputs

        return call

    def constructed(self, operation: Any, frame: Any = None) -> int:
        """The record of ``operation``; ``frame`` is the one that called ``Operation.__init__``."""
        key = id(operation)
        if key in self._index:
            return self._index[key]
        line, column, direct, via = self._site(operation, frame) if frame is not None else (None, None, False, "")
        import keras

        record = LayerRecord(len(self.layers), operation, line, column, direct, via, self.builder,
                             keras.config.image_data_format())
        self.layers.append(record)
        self._index[key] = record.index
        self._kept.append(operation)
        return record.index

    def called(self, operation: Any, args: tuple, kwargs: dict, outputs: Any) -> None:
        import keras

        inputs = _tensors((args, kwargs))
        made = _tensors(outputs)
        sources = [self._producer[id(t)] if id(t) in self._producer else self._entry(t) for t in inputs]
        index = len(self.calls)
        self.calls.append(CallRecord(
            self.constructed(operation), sources,
            [_shape(t) for t in inputs], _shape(made[0]) if made else None, keras.config.image_data_format(),
        ))
        for tensor in made:
            self._producer.setdefault(id(tensor), index)
        self._kept.extend(inputs)
        self._kept.extend(made)

    def _entry(self, tensor: Any) -> int | None:
        """A pseudo-call for a tensor no recorded call made: ``keras.Input``'s layer makes its tensor unasked."""
        history = getattr(tensor, "_keras_history", None)
        operation = getattr(history, "operation", None)
        if operation is None:
            return None
        import keras

        self.calls.append(CallRecord(self.constructed(operation), [], [], _shape(tensor),
                                     keras.config.image_data_format()))
        self._producer[id(tensor)] = len(self.calls) - 1
        self._kept.append(tensor)
        return len(self.calls) - 1

    def _site(self, operation: Any, frame: Any) -> tuple[int | None, int | None, bool, str]:
        """The user's file's frame that constructed ``operation``, and whether it did so itself."""
        constructor = None
        while frame is not None:
            if frame.f_locals.get("self") is not operation:
                if constructor is None:
                    constructor = frame
                if frame.f_code.co_filename == self.filename:
                    direct = frame is constructor
                    via = "" if direct else _describe(constructor, self._library_dirs)
                    line, column = _position(frame)
                    return line, column, direct, via
            frame = frame.f_back
        return None, None, False, ""

    def layout(self, call: CallRecord) -> tuple[str, str]:
        """The data format of a call's first input, and what decided it (a layer's class, or "global")."""
        source = call.sources[0] if call.sources else None
        for _ in range(64):
            if source is None:
                break
            producer = self.calls[source]
            layer = self.layers[producer.layer].layer
            kind = type(layer).__name__
            data_format = getattr(layer, "data_format", None)
            if data_format in ("channels_first", "channels_last"):
                return data_format, kind
            if kind in _FEATURES_LAST:
                return "channels_last", kind
            # Only a layer that keeps its input's shape (activation, dropout, an elementwise
            # custom layer, a merge) is taken to keep its layout too.
            if kind in _LAYOUT_BREAKING or not producer.input_shapes or \
                    producer.output_shape != producer.input_shapes[0]:
                break
            source = producer.sources[0] if producer.sources else None
        return call.data_format, "global"


def _tensors(structure: Any) -> list[Any]:
    from keras import tree

    try:
        leaves = tree.flatten(structure)
    except Exception:  # noqa: BLE001 - an odd structure records no tensors, never fails the build
        return []
    return [leaf for leaf in leaves if hasattr(leaf, "shape") and hasattr(leaf, "dtype")
            and not hasattr(leaf, "assign")]  # variables are weights, not data


def _shape(tensor: Any) -> list[int | None]:
    try:
        return [None if d is None else int(d) for d in tuple(tensor.shape)]
    except (TypeError, ValueError):
        return []


def _position(frame: Any) -> tuple[int, int | None]:
    """The line and 1-based column of the call the frame is executing."""
    try:
        positions = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    except (AttributeError, IndexError):
        return frame.f_lineno, None
    line, _, column, _ = positions
    return (line or frame.f_lineno), (None if column is None else column + 1)


def _library_dirs() -> tuple[str, ...]:
    import keras

    return (os.path.dirname(os.path.dirname(keras.__file__)) + os.sep,)


def _describe(frame: Any, library_dirs: tuple[str, ...]) -> str:
    """``keras.src.applications.resnet`` for a frame in an installed package, else its file name."""
    path = frame.f_code.co_filename
    for root in library_dirs:
        if path.startswith(root):
            return os.path.splitext(path[len(root):])[0].replace(os.sep, ".")
    return os.path.basename(path)
