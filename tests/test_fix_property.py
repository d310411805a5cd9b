"""A generated grid of small models in every style: after ``--fix --unsafe-fixes`` the text re-parses,
a second fix changes nothing, and every comment of the original is still there."""
from __future__ import annotations

import random
import re

import libcst as cst
import pytest

from fixutil import fix

LAYERS = [
    'Conv2D(8, 3, data_format="channels_first")', 'Conv2D(8, 3)', 'Conv2D(8, 3, activation="relu")',
    "BatchNormalization()", "BatchNormalization(axis=1)", "BatchNormalization(momentum=0.9)",
    "Dropout(0.5)", "Dropout(0.1)", 'Activation("relu")', 'Activation("tanh")', "MaxPooling2D()",
]
HEAD = ["Flatten()", "Dense(10)"]


def model_source(rng: random.Random, style: str, comments: bool, crlf: bool, final_newline: bool) -> bytes:
    body = [rng.choice(LAYERS) for _ in range(rng.randint(2, 7))] + HEAD
    alias = rng.choice(["layers.", "KL.", "tf.keras.layers."])
    imports = {"layers.": "from keras import layers", "KL.": "import keras.layers as KL",
               "tf.keras.layers.": "import tensorflow as tf"}[alias]
    lines = ["import keras", imports, ""]
    note = (lambda i: f"  # layer {i}") if comments else (lambda i: "")
    if style == "list":
        lines.append("model = keras.Sequential([")
        for i, layer in enumerate(body):
            if comments and i % 3 == 1:
                lines.append(f"    # block {i}")
            lines.append(f"    {alias}{layer},{note(i)}")
        lines.append("])")
    elif style == "add":
        lines.append("model = keras.Sequential()")
        for i, layer in enumerate(body):
            if comments and i % 3 == 1:
                lines += ["", f"# block {i}"]
            lines.append(f"model.add({alias}{layer}){note(i)}")
    else:
        lines += ["", "def build(inputs):", "    x = inputs"]
        for i, layer in enumerate(body):
            if comments and i % 3 == 1:
                lines.append(f"    # block {i}")
            lines.append(f"    x = {alias}{layer}(x){note(i)}")
        lines += ["    return keras.Model(inputs, x)"]
    text = ("\r\n" if crlf else "\n").join(lines) + (("\r\n" if crlf else "\n") if final_newline else "")
    return text.encode()


def comments_of(data: bytes) -> list[str]:
    return sorted(re.findall(rb"#[^\r\n]*", data))


CASES = [(seed, style, comments, crlf, final)
         for seed in range(34)
         for style in ("list", "add", "functional")
         for comments, crlf, final in ((True, False, True), (False, True, False), (True, True, True))]


def test_the_grid_is_large_enough():
    assert len(CASES) >= 300


@pytest.mark.parametrize("seed,style,comments,crlf,final", CASES)
def test_fix_reparses_is_idempotent_and_keeps_comments(seed, style, comments, crlf, final):
    data = model_source(random.Random(seed * 7 + len(style)), style, comments, crlf, final)
    outcome = fix(data)
    assert outcome.error is None and outcome.problem is None
    cst.parse_module(outcome.fixed)
    compile(outcome.fixed, "model.py", "exec")
    assert comments_of(outcome.fixed) == comments_of(data)
    assert outcome.fixed.endswith(b"\n") == data.endswith(b"\n")
    if crlf:
        assert b"\n" not in outcome.fixed.replace(b"\r\n", b"")
    again = fix(outcome.fixed)
    assert again.fixed == outcome.fixed
    fixed_codes = {d.code for d in outcome.found if d.fix is not None and "fix_refused" not in d.extra}
    assert not fixed_codes & {d.code for d in outcome.remaining if "fix_refused" not in d.extra}
