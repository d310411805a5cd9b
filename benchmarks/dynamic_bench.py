"""Dynamic mode's speed: TensorFlow's import (paid once), files per minute, build time per model.

    python benchmarks/dynamic_bench.py [--jobs N] [--models 30]

Runs the fork server the way ``bnlint --dynamic`` does, without the cache, on
``examples/`` and on a folder of generated models (Sequential, functional and
subclassed, 2 to 6 conv blocks), and prints:

- the TensorFlow + Keras import time, counted once for the whole run;
- files per minute after that import, with 1 child at a time and with N;
- the build time per model (median and slowest), as the children measured it;
- for contrast, one file in a fresh interpreter that imports TensorFlow itself,
  what a design without the fork server would pay for every file.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnlint.config import Settings
from bnlint.dynamic.client import ZygoteClient
from bnlint.dynamic.runner import build_request

_STYLES = ("sequential", "functional", "subclassed")


def generated_model(index: int) -> str:
    """One model file: a style, a depth, a data format picked from the index."""
    style = _STYLES[index % 3]
    blocks = 2 + index % 5
    channels_first = index % 4 == 0
    shape = "(3, 32, 32)" if channels_first else "(32, 32, 3)"
    layout = ', data_format="channels_first"' if channels_first else ""
    axis = 1 if channels_first else -1
    if style == "sequential":
        body = "".join(f"        layers.Conv2D({16 * (b + 1)}, 3, padding=\"same\", use_bias=False{layout}),\n"
                       f"        layers.BatchNormalization(axis={axis}),\n        layers.ReLU(),\n"
                       for b in range(blocks))
        return (f"import keras\nfrom keras import layers\n\n\ndef build_model():\n"
                f"    return keras.Sequential([\n        keras.Input(shape={shape}),\n{body}"
                f"        layers.GlobalAveragePooling2D({layout.lstrip(', ')}),\n        layers.Dense(10),\n    ])\n")
    if style == "functional":
        body = "".join(f"    x = layers.Conv2D({16 * (b + 1)}, 3, padding=\"same\", use_bias=False{layout})(x)\n"
                       f"    x = layers.BatchNormalization(axis={axis})(x)\n    x = layers.ReLU()(x)\n"
                       for b in range(blocks))
        return (f"import keras\nfrom keras import layers\n\n\ndef build_model():\n"
                f"    inputs = keras.Input(shape={shape})\n    x = inputs\n{body}"
                f"    x = layers.GlobalAveragePooling2D({layout.lstrip(', ')})(x)\n"
                f"    return keras.Model(inputs, layers.Dense(10)(x))\n")
    convs = "".join(f"        self.conv{b} = layers.Conv2D({16 * (b + 1)}, 3, padding=\"same\", use_bias=False{layout})\n"
                    f"        self.bn{b} = layers.BatchNormalization(axis={axis})\n" for b in range(blocks))
    calls = "".join(f"        x = keras.ops.relu(self.bn{b}(self.conv{b}(x)))\n" for b in range(blocks))
    return (f"import keras\nfrom keras import layers\n\n\nclass Net(keras.Model):\n"
            f"    def __init__(self):\n        super().__init__()\n{convs}"
            f"        self.pool = layers.GlobalAveragePooling2D({layout.lstrip(', ')})\n"
            f"        self.head = layers.Dense(10)\n\n    def call(self, x):\n{calls}"
            f"        return self.head(self.pool(x))\n\n\ndef build_model():\n    model = Net()\n"
            f"    model(keras.Input(shape={shape}))\n    return model\n")


def measure(files: list[Path], jobs: int) -> dict[str, float]:
    client = ZygoteClient("cpu", jobs)
    started = time.monotonic()
    ready = client.start()
    after_import = time.monotonic()
    settings = Settings()
    reports = dict(client.build_all([build_request(str(path), [], settings) for path in files]))
    done = time.monotonic()
    client.close()
    builds = [b["seconds"] for r in reports.values() for b in r.get("builders", [])
              if b["status"] == "built" for _ in range(max(b["models"], 1))]
    failed = [files[i].name for i, r in reports.items() if r.get("status") != "ok"]
    if failed:
        print(f"  not built: {', '.join(failed)}")
    return {"import": ready["import_seconds"], "startup": after_import - started, "files": len(files),
            "build_wall": done - after_import, "per_minute": len(files) / (done - after_import) * 60,
            "median_model": statistics.median(builds) if builds else 0.0,
            "slowest_model": max(builds) if builds else 0.0, "models": len(builds)}


def fresh_interpreter(path: Path) -> float:
    """One file built by a new Python that imports TensorFlow itself: the per-file cost without the zygote."""
    code = ("import importlib.util, sys, keras\n"
            "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); m.build_model()\n")
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    return time.monotonic() - started


def report(name: str, figures: dict[str, float], jobs: int) -> None:
    print(f"{name}: {figures['files']:.0f} files, {figures['models']:.0f} models, {jobs} child(ren) at a time")
    print(f"  TensorFlow+Keras import (once): {figures['import']:.1f} s; server ready after {figures['startup']:.1f} s")
    print(f"  builds: {figures['build_wall']:.1f} s wall = {figures['per_minute']:.0f} files/minute after the import")
    print(f"  per model: median {figures['median_model']:.2f} s, slowest {figures['slowest_model']:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", type=int, default=30)
    options = parser.parse_args()
    examples = sorted(p for p in (ROOT / "examples").glob("*.py") if b"BatchNorm" in p.read_bytes())
    with tempfile.TemporaryDirectory() as folder:
        generated = []
        for index in range(options.models):
            path = Path(folder) / f"model_{index:02d}.py"
            path.write_text(generated_model(index), encoding="utf-8")
            generated.append(path)
        for jobs in sorted({1, options.jobs}):
            report("examples/", measure(examples, jobs), jobs)
            report(f"{options.models} generated models", measure(generated, jobs), jobs)
        print(f"fresh interpreter per file (no fork server): {fresh_interpreter(generated[1]):.1f} s for one file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
