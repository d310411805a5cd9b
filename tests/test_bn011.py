"""BN011 stacked-normalization: a BN that feeds another normalization layer directly."""
from __future__ import annotations

import random
import re
import textwrap

import libcst as cst
import pytest

from cliutil import bnlint, write
from fixutil import fix
from lintutil import assert_findings, lint

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(),  # expect: BN011 info @layers.BatchNormalization
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.GlobalAveragePooling2D(),
    layers.Dense(10),
])
"""

MODEL_ADD = """
from tensorflow import keras

model = keras.Sequential()
model.add(keras.layers.Dense(64, use_bias=False, input_shape=(20,)))
model.add(keras.layers.BatchNormalization())  # expect: BN011 info @keras.layers.BatchNormalization
model.add(keras.layers.LayerNormalization())
model.add(keras.layers.Activation("relu"))
model.add(keras.layers.Dense(1))
"""

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
x = layers.BatchNormalization()(x)  # expect: BN011 info @layers.BatchNormalization
x = layers.GroupNormalization(groups=8)(x)
x = layers.ReLU()(x)
y = layers.Dense(16, use_bias=False)(layers.GlobalAveragePooling2D()(x))
y = layers.BatchNormalization()(y)  # expect: BN011 info @layers.BatchNormalization
y = layers.RMSNormalization()(y)
model = keras.Model(inputs, layers.Dense(1)(y))
"""

NESTED_CALLS = """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
x = layers.LayerNormalization()(layers.BatchNormalization()(layers.Dense(8)(inputs)))  # expect: BN011 info @layers.BatchNormalization
model = keras.Model(inputs, layers.Dense(1)(x))
"""

# A block that normalizes its output, and a caller that normalizes its input again.
HELPER_AND_CALLER = """
import keras
from keras import layers


def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    return layers.BatchNormalization()(x)  # expect: BN011 info @layers.BatchNormalization


def block(x, filters):
    x = layers.BatchNormalization()(conv_bn(x, filters))
    return layers.ReLU()(x)


def build():
    inputs = keras.Input(shape=(32, 32, 3))
    return keras.Model(inputs, block(block(inputs, 16), 32))
"""

SUBCLASS = """
import keras
from keras import layers


class Block(layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.conv = layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.bn1 = layers.BatchNormalization()  # expect: BN011 info @layers.BatchNormalization
        self.bn2 = layers.BatchNormalization()
        self.act = layers.ReLU()

    def call(self, x, training=False):
        x = self.conv(x)
        x = self.bn1(x, training=training)
        x = self.bn2(x, training=training)
        return self.act(x)
"""


# Both layers sit in one branch: whenever it runs, they are stacked.
IN_ONE_BRANCH = """
import keras
from keras import layers


def build(norm):
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, use_bias=False)(inputs)
    if norm == "both":
        x = layers.BatchNormalization()(x)  # expect: BN011 info @layers.BatchNormalization
        x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))
"""


@pytest.mark.parametrize("source", [
    pytest.param(SEQUENTIAL_LIST, id="sequential-list"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(NESTED_CALLS, id="nested-calls"),
    pytest.param(HELPER_AND_CALLER, id="helper-and-caller"),
    pytest.param(SUBCLASS, id="subclass"),
    pytest.param(IN_ONE_BRANCH, id="in-one-branch"),
])
def test_reported(source):
    assert_findings(source, "BN011")


SOMETHING_IN_BETWEEN = """
import keras
from keras import layers

inputs = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(16, 3, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.BatchNormalization()(x)
x = layers.Dropout(0.1)(x)
x = layers.LayerNormalization()(x)
model = keras.Model(inputs, x)
"""

# An L2-normalized embedding after BN is a deliberate head (ArcFace), not a second standardization.
UNIT_NORMALIZATION = """
import keras
from keras import layers

inputs = keras.Input(shape=(512,))
x = layers.Dense(128, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
embedding = layers.UnitNormalization()(x)
model = keras.Model(inputs, embedding)
"""

OTHER_AXIS = """
import keras
from keras import layers

inputs = keras.Input(shape=(8, 8, 16))
x = layers.BatchNormalization(axis=1)(inputs)
x = layers.BatchNormalization(axis=-1)(x)
model = keras.Model(inputs, x)
"""

# The BN's own output is used too (a residual branch): it does work there.
ALSO_USED_AS_IT_IS = """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
x = layers.Dense(16, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
y = layers.LayerNormalization()(x)
model = keras.Model(inputs, layers.Add()([x, layers.Dense(16)(y)]))
"""

# The BN's output is a model output of its own, beside its normalized copy.
ALSO_AN_OUTPUT = """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
x = layers.BatchNormalization()(layers.Dense(16, use_bias=False)(inputs))
model = keras.Model(inputs, [x, layers.LayerNormalization()(x)])
"""

LAYER_NORM_FIRST = """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
x = layers.LayerNormalization()(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(1)(x))
"""

# One layer object applied to its own output a few times: a test of the moving-average update.
ONE_LAYER_APPLIED_REPEATEDLY = """
import numpy as np
from keras import layers


def check_update_rule():
    layer = layers.BatchNormalization(momentum=0.0)
    out = np.random.normal(size=(8, 4))
    for _ in range(3):
        out = layer(out, training=True)
    return out
"""

OPTIONAL_SECOND = """
import keras
from keras import layers


def build(extra_norm):
    inputs = keras.Input(shape=(16,))
    x = layers.BatchNormalization()(layers.Dense(8, use_bias=False)(inputs))
    if extra_norm:
        x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

# The BN is optional under a flag the trace cannot decide; the author may never turn it on.
OPTIONAL_FIRST = """
import keras
from keras import layers


def build(use_bn):
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, use_bias=False)(inputs)
    if use_bn:
        x = layers.BatchNormalization()(x)
    x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

# One branch or the other normalizes: never both.
ALTERNATIVES = """
import keras
from keras import layers


def build(norm):
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, use_bias=False)(inputs)
    if norm == "batch":
        x = layers.BatchNormalization()(x)
    else:
        x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

# Two inputs normalized and then merged: the second normalization sees a concatenation.
AFTER_A_MERGE = """
import keras
from keras import layers

a = keras.Input(shape=(8,))
b = keras.Input(shape=(8,))
x = layers.Concatenate()([layers.BatchNormalization()(a), layers.BatchNormalization()(b)])
x = layers.LayerNormalization()(x)
model = keras.Model([a, b], layers.Dense(1)(x))
"""


@pytest.mark.parametrize("source", [
    pytest.param(SOMETHING_IN_BETWEEN, id="something-in-between"),
    pytest.param(UNIT_NORMALIZATION, id="unit-normalization"),
    pytest.param(OTHER_AXIS, id="other-axis"),
    pytest.param(ALSO_USED_AS_IT_IS, id="also-used-as-it-is"),
    pytest.param(ALSO_AN_OUTPUT, id="also-an-output"),
    pytest.param(LAYER_NORM_FIRST, id="layer-norm-first"),
    pytest.param(ONE_LAYER_APPLIED_REPEATEDLY, id="one-layer-applied-repeatedly"),
    pytest.param(OPTIONAL_FIRST, id="optional-first"),
    pytest.param(OPTIONAL_SECOND, id="optional-second"),
    pytest.param(ALTERNATIVES, id="alternatives"),
    pytest.param(AFTER_A_MERGE, id="after-a-merge"),
])
def test_not_reported(source):
    assert_findings(source, "BN011")


@pytest.mark.parametrize(("first", "second", "reported"), [
    ("BatchNormalization()", "BatchNormalization()", True),
    ("BatchNormalization(axis=-1)", "BatchNormalization(axis=3)", True),
    ("BatchNormalization(axis=AXIS)", "BatchNormalization(axis=AXIS)", True),
    ("BatchNormalization(axis=axis)", "BatchNormalization(axis=axis)", True),
    ("BatchNormalization(axis=axis)", "BatchNormalization()", False),
    ("BatchNormalization(axis=1)", "BatchNormalization()", False),
    ("BatchNormalization(synchronized=True)", "LayerNormalization()", True),
    ("SyncBatchNormalization()", "GroupNormalization(groups=4)", True),
    ("LayerNormalization()", "LayerNormalization()", False),
])
def test_pairs(first, second, reported):
    source = f"""
    import keras
    from keras import layers
    from settings import axis

    AXIS = -1
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = layers.{first}(x)
    x = layers.{second}(x)
    model = keras.Model(inputs, layers.ReLU()(x))
    """
    assert [d.line for d in lint(source, "BN011")] == ([9] if reported else [])


def test_message_and_fix():
    [diagnostic] = lint(MODEL_ADD, "BN011")
    assert diagnostic.name == "stacked-normalization" and diagnostic.severity.label == "info"
    assert diagnostic.message.startswith("BatchNormalization feeds LayerNormalization (line 7) directly")
    [same] = lint(SEQUENTIAL_LIST, "BN011")
    assert "the first one's gamma and beta are cancelled and its statistics recomputed; remove the first" \
        in same.message
    assert diagnostic.message.endswith("two normalizations in a row are almost always one applied twice; "
                                       "remove one of the two")
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "unsafe"
    assert [edit.kind for edit in diagnostic.fix.edits] == ["remove-layer"]


# ------------------------------------------------------------------ the fix

def fixed(source: str) -> str:
    outcome = fix(source, select=["BN011"])
    assert outcome.problem is None and not outcome.remaining
    again = fix(outcome.fixed.decode(), select=["BN011"], dedent=False)
    assert not again.found and not again.changed
    return outcome.fixed.decode()


def test_fix_in_each_style():
    assert fixed(SEQUENTIAL_LIST) == textwrap.dedent(SEQUENTIAL_LIST).replace(
        "use_bias=False),\n    layers.BatchNormalization(),  # expect: BN011 info @layers.BatchNormalization\n",
        "use_bias=False),  # expect: BN011 info @layers.BatchNormalization\n")
    assert fixed(MODEL_ADD) == textwrap.dedent(MODEL_ADD).replace(
        "model.add(keras.layers.BatchNormalization())  # expect: BN011 info @keras.layers.BatchNormalization\n",
        "# expect: BN011 info @keras.layers.BatchNormalization\n")
    functional = fixed(FUNCTIONAL)
    assert "BatchNormalization()" not in functional
    assert "x = layers.Conv2D(32, 3, padding=\"same\", use_bias=False)(inputs)\n# expect:" in functional
    subclass = fixed(SUBCLASS)
    assert "self.bn1" not in subclass and "x = self.conv(x)\n        x = self.bn2(x, training=training)" in subclass


def test_fix_offered_for_a_block_that_a_main_block_also_builds():
    # The call under ``if __name__ == "__main__":`` traces the builder once more, as an undecided
    # branch; the pair is stacked there too, so the fix is right in every use.
    source = """
    import keras
    from keras import layers


    def conv_bn(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return x


    def build():
        inputs = keras.Input(shape=(32, 32, 3))
        x = layers.GroupNormalization(groups=4)(conv_bn(inputs, 16))
        return keras.Model(inputs, layers.ReLU()(x))


    if __name__ == "__main__":
        build().summary()
    """
    [diagnostic] = lint(source, "BN011")
    assert diagnostic.line == 8 and diagnostic.fix is not None and "fix_refused" not in diagnostic.extra
    assert "BatchNormalization()" not in fixed(source)


def test_checkpoint_note_where_the_file_loads_weights():
    source = textwrap.dedent(MODEL_ADD) + 'model.load_weights("mlp.weights.h5")\n'
    [diagnostic] = lint(source, "BN011")
    assert diagnostic.message.endswith("existing checkpoints no longer load)")


def test_fix_refused_for_a_block_whose_other_uses_are_not_stacked():
    source = """
    import keras
    from keras import layers


    def conv_bn(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return x


    def build():
        inputs = keras.Input(shape=(32, 32, 3))
        x = layers.ReLU()(conv_bn(inputs, 16))
        x = layers.LayerNormalization()(conv_bn(x, 32))
        return keras.Model(inputs, x)
    """
    [diagnostic] = lint(source, "BN011")
    assert diagnostic.line == 8 and diagnostic.fix is None
    assert diagnostic.extra["fix_refused"] == "the layer is shared by 2 uses and the fix is right in only 1 of them"


def test_fix_refused_where_the_bn_output_has_a_name_of_its_own():
    source = """
    from keras import layers


    def block(x):
        y = layers.BatchNormalization()(x)
        z = layers.LayerNormalization()(y)
        return layers.ReLU()(z)
    """
    outcome = fix(source, select=["BN011"])
    assert outcome.problem is None and outcome.changed
    assert "z = layers.LayerNormalization()(x)" in outcome.fixed.decode()  # the reader is rewired


# A grid of generated models in the three list styles: the fixer's guarantees hold for BN010 and BN011.
STACK = ["Conv2D(8, 3)", "BatchNormalization()", "LayerNormalization()", "Activation(\"relu\")",
         "BatchNormalization()", "GroupNormalization(groups=2)", "MaxPooling2D()"]
HEADS = [["Flatten()", "Dense(1)", "BatchNormalization()"],
         ["Flatten()", "Dense(10)", "BatchNormalization()", "Activation(\"softmax\")"],
         ["Flatten()", "Dense(10)"]]


def grid_model(seed: int, style: str) -> bytes:
    rng = random.Random(seed)
    body = [rng.choice(STACK) for _ in range(rng.randint(2, 6))] + rng.choice(HEADS)
    lines = ["import keras", "from keras import layers", ""]
    if style == "list":
        lines += ["model = keras.Sequential([", "    keras.Input(shape=(16, 16, 3)),"]
        lines += [f"    layers.{layer},  # layer {i}" for i, layer in enumerate(body)] + ["])"]
    elif style == "add":
        lines += ["model = keras.Sequential()", "model.add(keras.Input(shape=(16, 16, 3)))"]
        lines += [f"model.add(layers.{layer})  # layer {i}" for i, layer in enumerate(body)]
    else:
        lines += ["inputs = keras.Input(shape=(16, 16, 3))", "x = inputs"]
        lines += [f"x = layers.{layer}(x)  # layer {i}" for i, layer in enumerate(body)]
        lines += ["model = keras.Model(inputs, x)"]
    return ("\n".join(lines) + "\n").encode()


def comments_of(data: bytes) -> list[bytes]:
    """Every comment, counting each part of comments the fixer joined onto one line."""
    return sorted(part.strip() for part in re.findall(rb"#[^#\n]*", data))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("style", ["list", "add", "functional"])
def test_fix_guarantees_on_generated_models(seed, style):
    data = grid_model(seed, style)
    outcome = fix(data, select=["BN010", "BN011"])
    assert outcome.problem is None
    cst.parse_module(outcome.fixed)
    assert comments_of(outcome.fixed) == comments_of(data)
    again = fix(outcome.fixed, select=["BN010", "BN011"])
    assert again.fixed == outcome.fixed
    assert not [d for d in again.found if d.fix is not None and "fix_refused" not in d.extra]


def test_the_grid_exercises_both_rules():
    found = set()
    for seed in range(20):
        for style in ("list", "add", "functional"):
            found |= {d.code for d in fix(grid_model(seed, style), select=["BN010", "BN011"]).found}
    assert found == {"BN010", "BN011"}


def test_cli_reports_stacked_normalization_by_default(tmp_path):
    write(tmp_path / "model.py", FUNCTIONAL)
    run = bnlint("--isolated", "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if " BN011 " in line]
    assert [line.split(": ")[0] for line in lines] == ["model.py:7:5", "model.py:11:5"]
