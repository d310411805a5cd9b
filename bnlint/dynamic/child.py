"""One file's build, in a process forked for it alone: import the file, build its models, report.

The zygote forks this child with TensorFlow already imported and nothing run,
so Keras's global state (image data format, floatx, the session and its name
counters) is the zygote's pristine one in every child: nothing one file sets
reaches the next. The child still sets the data format and floatx the run asks
for, then installs the sandbox and the recorder, imports the file under a
name that is not ``__main__`` (its ``if __name__ == "__main__":`` block does not
run), builds, and writes one JSON report on ``out``.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import sys
import time
from typing import Any

from bnlint.dynamic import builders, sandbox
from bnlint.dynamic.recorder import Recorder

MODULE_NAME = "bnlint_dynamic_target"


def run(request: dict[str, Any], out: int) -> None:
    started = time.monotonic()
    report: dict[str, Any] = {"status": "ok", "reason": "", "device": "cpu", "builders": [], "layers": [],
                              "calls": []}
    try:
        report["device"] = _prepare(request)
        _build(request, report)
    except BaseException as error:  # noqa: BLE001 - whatever the file does, the child reports
        report["status"] = "failed"
        report["reason"] = _import_reason(error, request["memory_mb"])
    report["seconds"] = round(time.monotonic() - started, 3)
    with os.fdopen(out, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(report, default=str) + "\n")


def _prepare(request: dict[str, Any]) -> str:
    """Isolate the child and reset Keras's globals; the device that builds (``cpu`` or ``gpu``)."""
    import keras

    device = request["device"]
    gpu_possible = device != "cpu" and (os.path.exists("/dev/nvidia0") or os.path.exists("/dev/dxg"))
    if not gpu_possible:
        sandbox.limit_memory(request["memory_mb"])  # CUDA maps more address space than any cap allows
    sandbox.block_network()
    sandbox.refuse_training_and_loading()
    keras.config.set_image_data_format(request["image_data_format"] or keras.config.image_data_format())
    keras.config.set_floatx("float32")
    # No clear_session(): the fork is the reset (and a second and a half per file cheaper).
    if device == "cpu" or device == "auto" and not gpu_possible:
        return "cpu"  # no device query: it starts TensorFlow's runtime, a second per file on a busy CPU
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "gpu"
    if device == "gpu":
        raise sandbox.Refused("--dynamic-device gpu, but TensorFlow sees no GPU")
    return "cpu"


def _build(request: dict[str, Any], report: dict[str, Any]) -> None:
    import tensorflow as tf

    path = os.path.abspath(request["path"])  # code objects name their file as the import was given it
    with open(path, "rb") as handle:
        source = handle.read()
    tree = ast.parse(source, filename=path)
    recorder = Recorder(path)
    recorder.install()
    device = "/GPU:0" if report["device"] == "gpu" else "/CPU:0"
    with tf.device(device):
        module = _import(path)
        sandbox.ATTEMPTS.reset()  # an attempt the import survived is no builder's failure
        shape = tuple(request["input_shape"]) if request["input_shape"] else None
        runner = builders.ModelBuilder(module, recorder, shape, request["memory_mb"])
        found = list(runner.module_objects())
        for builder in builders.candidates(tree, request["entries"]):
            recorder.builder = len(found)
            started = time.monotonic()
            runner.run(builder)
            builder.seconds = round(time.monotonic() - started, 3)
            found.append(builder)
    report["builders"] = [vars(b) for b in found]
    report["layers"], report["calls"] = _records(recorder)


def _import(path: str) -> Any:
    folder = os.path.dirname(os.path.abspath(path))
    sys.argv = [path]
    dotted = _package_name(path)
    if dotted is not None:
        # A module of a package is imported as one, so that its relative imports work.
        root = os.path.abspath(os.path.join(folder, *[".."] * dotted.count(".")))
        sys.path.insert(0, root)
        return importlib.import_module(dotted)
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def _package_name(path: str) -> str | None:
    """``pkg.sub.module`` for a file inside packages (folders with ``__init__.py``), else None.

    None too when the top package is already imported from elsewhere (a copy of
    Keras's own sources, say): importing by name would load that other file.
    """
    parts = [os.path.splitext(os.path.basename(path))[0]]
    folder = os.path.dirname(path)
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if len(parts) == 1 or parts[-1] == "__init__" or not all(p.isidentifier() for p in parts):
        return None
    loaded = sys.modules.get(parts[0])
    if loaded is not None and not os.path.abspath(getattr(loaded, "__file__", "") or "").startswith(folder + os.sep):
        return None
    return ".".join(parts)


def _import_reason(error: BaseException, memory_mb: int) -> str:
    if isinstance(error, SyntaxError):
        return f"does not compile: {error.msg} (line {error.lineno})"
    reason = sandbox.failure_reason(error, memory_mb)
    return reason if isinstance(error, sandbox.Refused) or reason.startswith(("would", "tried", "ran out")) \
        else f"import failed: {reason}"


def _plain_config(layer: Any) -> dict[str, Any]:
    """The layer's constructor arguments as Keras resolved them, the scalar ones (and tuples of them)."""
    try:
        config = layer.get_config()
    except Exception:  # noqa: BLE001 - a custom layer's get_config may fail; the config is a nicety
        return {}

    def plain(value: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return all(isinstance(item, (int, float, str, bool)) for item in value)
        return value is None or isinstance(value, (int, float, str, bool))

    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in config.items() if isinstance(config, dict) and plain(value)}


def _records(recorder: Recorder) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import keras

    layers = []
    for record in recorder.layers:
        layer = record.layer
        entry: dict[str, Any] = {"class": type(layer).__name__, "line": record.line, "column": record.column,
                                 "direct": record.direct, "via": record.via, "builder": record.builder}
        entry["config"] = _plain_config(layer)
        if isinstance(layer, keras.layers.BatchNormalization):
            entry["bn"] = {"axis": layer.axis, "scale": bool(layer.scale), "center": bool(layer.center)}
        rate = getattr(layer, "rate", None)
        if isinstance(rate, (int, float)):
            entry["rate"] = float(rate)
        layers.append(entry)
    calls = []
    for call in recorder.calls:
        entry = {"layer": call.layer, "sources": call.sources, "input_shapes": call.input_shapes,
                 "output_shape": call.output_shape}
        if "bn" in layers[call.layer]:
            entry["data_format"], entry["layout_from"] = recorder.layout(call)
        calls.append(entry)
    return layers, calls
