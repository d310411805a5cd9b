"""The fixed models are working Keras models, not only valid Python.

Every ``examples/*_fixed.py`` twin, and what ``--fix --unsafe-fixes`` makes of the
seed examples (the VGG16 one with BN017, in both BN positions), is imported and every
``build_*`` function in it is called, then ``summary()`` (construction only, no
training); the VGG16's layers are then checked in the order the built model has them. TensorFlow is imported once, in
one subprocess for all models. Skipped only when TensorFlow is not installed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cliutil import bnlint
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
            # Each layer's class and activation, in the model's order: a chain's order of application.
            order = [[layer.__class__.__name__, getattr(getattr(layer, "activation", None), "__name__", None)]
                     for layer in model.layers]
            built.append([name, model.count_params(), order])
    report[path] = built
print(json.dumps(report))
"""


def _vgg16_with_bn(tmp_path, position: str) -> str:
    """The VGG16 example after ``bnlint --select BN017 --fix --unsafe-fixes``, with ``bn-position = position``."""
    folder = tmp_path / position
    folder.mkdir()
    (folder / "pyproject.toml").write_text(f'[tool.bnlint]\nbn-position = "{position}"\n')
    shutil.copy(EXAMPLES / "vgg16.py", folder / "vgg16.py")
    run = bnlint("--select", "BN017", "--fix", "--unsafe-fixes", "--no-cache", "vgg16.py", cwd=folder)
    assert run.returncode == 0 and "1 fixed, 0 remaining" in run.stdout, run.stdout + run.stderr
    return str(folder / "vgg16.py")


def _layers_after(order, index, count):
    return [name if activation in (None, "linear") else f"{name}:{activation}"
            for name, activation in order[index + 1:index + 1 + count]]


def test_every_fixed_model_builds(tmp_path):
    paths = [str(p) for p in sorted(EXAMPLES.glob("*_fixed.py"))]
    for seed in ("sequential_cnn.py", "unet_strided.py"):
        outcome = fix((EXAMPLES / seed).read_bytes())
        assert outcome.changed and not outcome.remaining
        target = tmp_path / seed.replace(".py", "_fixed.py")
        target.write_bytes(outcome.fixed)
        paths.append(str(target))
    vgg_pre, vgg_post = _vgg16_with_bn(tmp_path, "pre-activation"), _vgg16_with_bn(tmp_path, "post-activation")
    paths += [vgg_pre, vgg_post]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow"}
    run = subprocess.run([sys.executable, "-c", BUILD_ALL, *paths], capture_output=True, text=True, env=env,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(report) == set(paths)
    for path, built in report.items():
        assert built, f"{path} defines no build_* function"
    # The built VGG16 answers "where does BN go": after every conv, on the conv's linear output, before its
    # ReLU; after the first hidden Dense; not after the second, which a Dropout(0.5) feeds (BN003), nor the output.
    [(_, _, pre)] = report[vgg_pre]
    convs = [i for i, (name, _) in enumerate(pre) if name == "Conv2D"]
    assert len(convs) == 13
    for i in convs:
        assert pre[i][1] == "linear" and _layers_after(pre, i, 2) == ["BatchNormalization", "Activation:relu"]
    dense = [i for i, (name, _) in enumerate(pre) if name == "Dense"]
    assert [pre[i][1] for i in dense] == ["linear", "relu", "softmax"]
    assert _layers_after(pre, dense[0], 3) == ["BatchNormalization", "Activation:relu", "Dropout"]
    assert _layers_after(pre, dense[1], 1) == ["Dropout"]
    assert sum(name == "BatchNormalization" for name, _ in pre) == 14
    [(_, _, post)] = report[vgg_post]
    for i in (i for i, (name, _) in enumerate(post) if name == "Conv2D"):
        assert post[i][1] == "relu" and _layers_after(post, i, 1) == ["BatchNormalization"]
    assert "Activation" not in {name for name, _ in post}
