"""Which files load trained weights: decided from the calls the code makes, never from a text match.

In such a file a fix that changes a parameter's shape (BN001's ``axis=``) is
downgraded to unsafe and says that checkpoints will no longer load; elsewhere
it stays safe.
"""
from __future__ import annotations

import json

import pytest

from cliutil import bnlint, write

AXIS_BUG = """\
import keras
from keras import layers


def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    return layers.BatchNormalization()(x)
"""

LOADS_NOTHING = {
    "get_weights": "def snapshot(layer):\n    w = layer.get_weights()\n    return w\n",
    "restore_best_weights": "stop = keras.callbacks.EarlyStopping(restore_best_weights=True)\n",
    "set_weights": "def copy(src, dst):\n    dst.set_weights(src.get_weights())\n",
    "weights_none": "base = keras.applications.ResNet50(weights=None, include_top=False)\n",
    "class_weights_keyword": "def train(model, x, y):\n    model.fit(x, y, class_weight={0: 1.0}, sample_weight=None)\n",
    "weights_in_a_string": 'NOTE = "call model.load_weights(path) after build"\n',
}

LOADS_WEIGHTS = {
    "load_weights": 'def restore(model):\n    model.load_weights("ckpt.weights.h5")\n',
    "load_model": 'model = keras.models.load_model("saved.keras")\n',
    "from_preset": 'import keras_hub\nbackbone = keras_hub.models.Backbone.from_preset("resnet_50_imagenet")\n',
    "application_default_weights": "base = keras.applications.ResNet50(include_top=False)\n",
    "application_imagenet": 'from keras.applications import MobileNetV2\nbase = MobileNetV2(weights="imagenet")\n',
    "hub_layer": 'import tensorflow_hub as hub\nlayer = hub.KerasLayer("https://example.invalid/model")\n',
    "weights_from_default_argument": (
        'def backbone(weights="imagenet"):\n    return keras.applications.VGG16(weights=weights)\n'
    ),
}


def _axis_fix(tmp_path, extra: str) -> dict:
    path = write(tmp_path / "model.py", AXIS_BUG + "\n\n" + extra)
    run = bnlint(path, "--no-cache", "--output-format", "json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    [finding] = [d for d in json.loads(run.stdout) if d["code"] == "BN001"]
    return finding


@pytest.mark.parametrize("case", sorted(LOADS_NOTHING))
def test_code_that_loads_nothing_keeps_the_fix_safe(tmp_path, case):
    finding = _axis_fix(tmp_path, LOADS_NOTHING[case])
    assert finding["fix"]["applicability"] == "safe"
    assert "checkpoints" not in finding["message"]


@pytest.mark.parametrize("case", sorted(LOADS_WEIGHTS))
def test_a_call_that_loads_weights_makes_the_fix_unsafe(tmp_path, case):
    finding = _axis_fix(tmp_path, LOADS_WEIGHTS[case])
    assert finding["fix"]["applicability"] == "unsafe"
    assert "existing checkpoints no longer load" in finding["message"]


def test_the_weights_walk_runs_once_and_only_when_asked():
    from bnlint.graph import ModuleFacts

    calls = []
    facts = ModuleFacts(weights_check=lambda: calls.append(1) or True)
    assert calls == []  # building the facts walks nothing
    assert facts.loads_pretrained_weights and facts.loads_pretrained_weights
    assert calls == [1]
    assert ModuleFacts().loads_pretrained_weights is False
