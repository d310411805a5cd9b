"""benchmarks/fix_check.py: its check, run on a small generated tree, and its stacking counter."""
from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fix_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("fix_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fix_check"] = module
    spec.loader.exec_module(module)
    return module


fix_check = _load()

GENERATOR = """\
import keras
from keras import layers


def generator(latent):
    x = layers.Dense(256)(latent)
    x = layers.Dropout(0.4)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Dense(512)(x)
    x = layers.Dropout(0.4)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Dense(1024)(x)
    x = layers.Dropout(0.4)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    return keras.Model(latent, layers.Dense(784, activation="tanh")(x))
"""

SHARED_HELPER_UNET = """\
import keras
from keras import layers


def down(x, filters, bn=True):
    x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    if bn:
        x = layers.BatchNormalization()(x)
    return x


def generator():
    inputs = keras.Input(shape=(256, 256, 3))
    e1 = down(inputs, 64, bn=False)
    e2 = down(e1, 128)
    e3 = down(e2, 256, bn=False)
    e4 = down(e3, 512)
    d3 = layers.Concatenate()([layers.UpSampling2D()(e4), e3])
    d2 = layers.Concatenate()([layers.UpSampling2D()(d3), e2])
    d1 = layers.Concatenate()([layers.UpSampling2D()(d2), e1])
    return keras.Model(inputs, layers.Conv2D(3, 1)(d1))
"""

AXIS = """\
from keras import layers


def block(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    return layers.BatchNormalization()(x)
"""


def test_check_tree_on_a_generated_tree(tmp_path):
    (tmp_path / "gan").mkdir()
    (tmp_path / "gan" / "generator.py").write_text(GENERATOR)
    (tmp_path / "unet.py").write_text(SHARED_HELPER_UNET)
    (tmp_path / "axis.py").write_text(AXIS)
    (tmp_path / "plain.py").write_text("print('no model here')\n")
    report = fix_check.check_tree(tmp_path)
    assert report.ok, report.failures
    assert report.files == 4
    assert report.fixed["BN003"] == 3 and report.fixed["BN001"] == 1
    assert report.fixed["BN004"] == 0  # the shared helper gets the finding but no fix
    assert report.second_changed == 0
    assert report.stacks_after == report.stacks_before
    assert (tmp_path / "gan" / "generator.py").read_text() == GENERATOR  # the original is never touched
    assert "OK" in fix_check.render(tmp_path, report)


def test_stacked_pairs_counts_layers_in_a_row_through_activations():
    source = textwrap.dedent("""\
    from keras import layers

    def block(x):
        x = layers.Conv2D(32, 3)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.4)(x)
        x = layers.Dropout(0.4)(x)
        x = layers.Dense(10)(x)
        return layers.BatchNormalization()(x)
    """)
    pairs = fix_check.stacked_pairs(source.encode())
    assert pairs == {"BN->BN": 1, "Dropout->Dropout": 1}
    assert +fix_check.stacked_pairs(GENERATOR.encode()) == {}


def test_a_fix_that_stacks_is_a_failure(tmp_path):
    report = fix_check.Report()
    before = b"from keras import layers\n\ndef f(x):\n    x = layers.Dropout(0.4)(x)\n    return layers.Dense(2)(x)\n"
    after = before.replace(b"    return", b"    x = layers.Dropout(0.4)(x)\n    return")
    fix_check._check_changed(report, Path("model.py"), before, after)
    assert report.failures == ["model.py: 1 new Dropout->Dropout in a row"]
    fix_check._check_changed(report, Path("broken.py"), before, b"def f(:\n")
    assert report.not_parsing == 1 and not report.ok
