"""The fixed models are working Keras models, not only valid Python.

Every ``examples/*_fixed.py`` twin, and what ``--fix --unsafe-fixes`` makes of the
seed examples, is imported and every ``build_*`` function in it is called, then
``summary()`` (construction only, no training). TensorFlow is imported once, in
one subprocess for all models. Skipped only when TensorFlow is not installed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixutil import fix

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason="TensorFlow is not installed (pip install -e '.[test]' brings tensorflow-cpu)")

BUILD_ALL = r"""
import importlib.util, io, json, sys, contextlib
import keras
report = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("fixed_" + str(len(report)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = []
    for name in sorted(vars(module)):
        if name.startswith("build_") and callable(getattr(module, name)):
            model = getattr(module, name)()
            assert isinstance(model, keras.Model), (path, name)
            with contextlib.redirect_stdout(io.StringIO()):
                model.summary()
            built.append([name, model.count_params()])
    report[path] = built
print(json.dumps(report))
"""


def test_every_fixed_model_builds(tmp_path):
    paths = [str(p) for p in sorted(EXAMPLES.glob("*_fixed.py"))]
    for seed in ("sequential_cnn.py", "unet_strided.py"):
        outcome = fix((EXAMPLES / seed).read_bytes())
        assert outcome.changed and not outcome.remaining
        target = tmp_path / seed.replace(".py", "_fixed.py")
        target.write_bytes(outcome.fixed)
        paths.append(str(target))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
    run = subprocess.run([sys.executable, "-c", BUILD_ALL, *paths], capture_output=True, text=True, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(report) == set(paths)
    for path, built in report.items():
        assert built, f"{path} defines no build_* function"
