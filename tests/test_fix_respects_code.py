"""Findings and fixes that respect what the code does, through the real command line.

A fix to a layer written once and traced many times changes every use; a moved
dropout never lands next to another; an inserted layer reads like the file's own
code; a message names layers by line so a reader can find them.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cliutil import bnlint, write


def fixed(tmp_path: Path, source: str, *codes: str) -> tuple[str, str]:
    """The file after ``--fix --unsafe-fixes`` with ``codes`` selected, and what the run printed."""
    path = write(tmp_path / "model.py", source)
    run = bnlint("--fix", "--unsafe-fixes", "--select", ",".join(codes), "model.py", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    return path.read_text(encoding="utf-8"), run.stdout


def findings(tmp_path: Path, source: str, *codes: str) -> list[dict]:
    write(tmp_path / "model.py", source)
    run = bnlint("--output-format", "json", "--select", ",".join(codes), "model.py", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


# ---------------------------------------------------------------- BN004: the paper's first stage

PIX2PIX_HELPER = """\
import keras
from keras import layers


def down(x, filters, bn=True):
    x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
    if bn:
        x = layers.BatchNormalization()(x)
    return layers.LeakyReLU(0.2)(x)


def generator():
    inputs = keras.Input(shape=(256, 256, 3))
    e1 = down(inputs, 64, bn=False)
    e2 = down(e1, 128)
    e3 = down(e2, 256{third})
    e4 = down(e3, 512)
    d3 = layers.Concatenate()([layers.UpSampling2D()(e4), e3])
    d2 = layers.Concatenate()([layers.UpSampling2D()(d3), e2])
    d1 = layers.Concatenate()([layers.UpSampling2D()(d2), e1])
    return keras.Model(inputs, layers.Conv2D(3, 1)(d1))
"""


def test_first_stage_on_the_input_is_exempt_when_the_others_are_normalized(tmp_path):
    assert findings(tmp_path, PIX2PIX_HELPER.format(third=""), "BN004") == []


def test_shared_helper_gets_the_finding_but_no_fix_that_would_double_other_stages(tmp_path):
    source = PIX2PIX_HELPER.format(third=", bn=False")
    [finding] = findings(tmp_path, source, "BN004")
    assert (finding["line"], finding["severity"], finding["fix"]) == (6, "warning", None)
    after, printed = fixed(tmp_path, source, "BN004")
    assert after == source  # a BN in the helper would follow the helper's own BN in e2 and e4
    assert "[*]" not in printed


def test_first_stage_is_reported_when_no_stage_is_normalized(tmp_path):
    source = """\
    import keras
    from keras import layers

    def unet():
        inputs = keras.Input(shape=(64, 64, 1))
        c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
        p1 = layers.MaxPooling2D()(c1)
        c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
        p2 = layers.MaxPooling2D()(c2)
        b = layers.Conv2D(64, 3, padding="same", activation="relu")(p2)
        m2 = layers.concatenate([layers.UpSampling2D()(b), c2])
        m1 = layers.concatenate([layers.UpSampling2D()(m2), c1])
        return keras.Model(inputs, layers.Conv2D(1, 1)(m1))
    """
    assert [(f["line"], f["severity"]) for f in findings(tmp_path, source, "BN004")] == [(6, "info"), (8, "info")]


def test_other_stages_are_those_of_the_same_unet_not_any_bn_in_the_graph(tmp_path):
    source = """\
    import keras
    from keras import layers

    def unet():
        inputs = keras.Input(shape=(64, 64, 1))
        c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
        p1 = layers.MaxPooling2D()(c1)
        c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
        p2 = layers.MaxPooling2D()(c2)
        b = layers.Conv2D(64, 3, padding="same")(p2)
        b = layers.BatchNormalization()(b)
        u2 = layers.BatchNormalization()(layers.UpSampling2D()(b))
        m2 = layers.concatenate([u2, c2])
        m1 = layers.concatenate([layers.UpSampling2D()(m2), c1])
        return keras.Model(inputs, layers.Conv2D(1, 1)(m1))
    """
    # BN in the bottleneck and decoder only: the encoder has none, so this is the info case.
    assert {f["severity"] for f in findings(tmp_path, source, "BN004")} == {"info"}


# ---------------------------------------------------------------- messages name layers and lines

def test_message_names_the_conv_and_the_downsampling_with_their_lines(tmp_path):
    source = """\
    import keras
    from keras import layers

    def unet():
        inputs = keras.Input(shape=(64, 64, 1))
        c1 = layers.Conv2D(16, 3, padding="same")(inputs)
        c1 = layers.BatchNormalization()(c1)
        p1 = layers.MaxPooling2D()(layers.ReLU()(c1))
        c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
        p2 = layers.MaxPooling2D()(c2)
        c3 = layers.Conv2D(64, 3, padding="same", activation="relu")(p2)
        c3 = layers.BatchNormalization()(c3)
        e4 = layers.Conv2D(128, 3, strides=2, padding="same")(c3)
        m3 = layers.concatenate([layers.UpSampling2D()(e4), c3])
        m2 = layers.concatenate([layers.UpSampling2D()(m3), c2])
        m1 = layers.concatenate([layers.UpSampling2D()(m2), c1])
        return keras.Model(inputs, layers.Conv2D(1, 1)(m1))
    """
    [finding] = findings(tmp_path, source, "BN004")
    assert "between its last Conv2D (line 9) and MaxPooling2D (line 10)" in finding["message"]
    assert [(r["line"], r["message"]) for r in finding["related"]] == [(9, "Conv2D"), (10, "MaxPooling2D")]
    sarif = json.loads(bnlint("--output-format", "sarif", "--select", "BN004", "model.py", cwd=tmp_path).stdout)
    related = sarif["runs"][0]["results"][0]["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [9, 10]


def test_strided_downsampling_is_named_as_the_next_stages_conv(tmp_path):
    source = PIX2PIX_HELPER.format(third=", bn=False").replace("def down(", "def unused(") + """
def plain():
    inputs = keras.Input(shape=(256, 256, 3))
    e1 = layers.Conv2D(64, 4, strides=2, padding="same")(inputs)
    e1 = layers.BatchNormalization()(e1)
    e2 = layers.Conv2D(128, 4, strides=2, padding="same")(e1)
    e3 = layers.Conv2D(256, 4, strides=2, padding="same")(e2)
    d2 = layers.Concatenate()([layers.UpSampling2D()(e3), e2])
    d1 = layers.Concatenate()([layers.UpSampling2D()(d2), e1])
    return keras.Model(inputs, layers.Conv2D(3, 1)(d1))
"""
    found = [f for f in findings(tmp_path, source, "BN004") if f["line"] > 24]
    assert [f["line"] for f in found] == [27]
    assert "its last Conv2D (line 27) and the next stage's strided Conv2D (line 28)" in found[0]["message"]


def test_dropout_message_names_the_bn_it_feeds(tmp_path):
    source = """\
    from keras import layers

    def block(x):
        x = layers.Dropout(0.5)(x)
        x = layers.Conv2D(64, 3, activation="relu")(x)
        return layers.BatchNormalization()(x)
    """
    [finding] = findings(tmp_path, source, "BN003")
    assert finding["message"].startswith("Dropout(rate=0.5) feeds BatchNormalization (line 6) through Conv2D")
    assert finding["related"][0]["line"] == 6


# ---------------------------------------------------------------- a layer written once, traced many times

def test_loop_built_encoder_gets_one_bn_in_the_loop(tmp_path):
    source = """\
    import keras
    from keras import layers

    def unet(depth=3):
        x = inputs = keras.Input(shape=(64, 64, 1))
        skips = []
        for i in range(depth):
            x = layers.Conv2D(16 * 2 ** i, 3, padding="same", activation="relu")(x)
            skips.append(x)
            x = layers.MaxPooling2D()(x)
        x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
        for skip in reversed(skips):
            x = layers.concatenate([layers.UpSampling2D()(x), skip])
        return keras.Model(inputs, layers.Conv2D(1, 1)(x))
    """
    after, _ = fixed(tmp_path, source, "BN004")
    assert after.count("BatchNormalization()") == 1
    assert ("        x = layers.Conv2D(16 * 2 ** i, 3, padding=\"same\")(x)\n"
            "        x = layers.BatchNormalization()(x)\n"
            "        x = layers.Activation(\"relu\")(x)\n") in after, after


# ---------------------------------------------------------------- dropouts are never stacked

GENERATOR_STYLES = {
    "functional": ("""\
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
    """, "x = layers.Dropout(0.4)(x)"),
    "list": ("""\
    import keras
    from keras import layers

    model = keras.Sequential([
        layers.Dense(256),
        layers.Dropout(0.4),
        layers.BatchNormalization(),
        layers.Dense(512),
        layers.Dropout(0.4),
        layers.BatchNormalization(),
        layers.Dense(1024),
        layers.Dropout(0.4),
        layers.BatchNormalization(),
        layers.Dense(784, activation="tanh"),
    ])
    """, "layers.Dropout(0.4),"),
    "add": ("""\
    import keras
    from keras import layers

    model = keras.Sequential()
    model.add(layers.Dense(256))
    model.add(layers.Dropout(0.4))
    model.add(layers.BatchNormalization())
    model.add(layers.Dense(512))
    model.add(layers.Dropout(0.4))
    model.add(layers.BatchNormalization())
    model.add(layers.Dense(784, activation="tanh"))
    """, "model.add(layers.Dropout(0.4))"),
    "subclass": ("""\
    import keras
    from keras import layers

    class Generator(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = layers.Dense(256)
            self.drop1 = layers.Dropout(0.4)
            self.bn1 = layers.BatchNormalization()
            self.dense2 = layers.Dense(512)
            self.drop2 = layers.Dropout(0.4)
            self.bn2 = layers.BatchNormalization()
            self.out = layers.Dense(784, activation="tanh")

        def call(self, x):
            x = self.dense1(x)
            x = self.drop1(x)
            x = self.bn1(x)
            x = self.dense2(x)
            x = self.drop2(x)
            x = self.bn2(x)
            return self.out(x)
    """, "x = self.drop2(x)"),
}


@pytest.mark.parametrize("style", sorted(GENERATOR_STYLES))
def test_dropouts_end_as_one_after_the_last_bn(tmp_path, style):
    source, dropout = GENERATOR_STYLES[style]
    after, _ = fixed(tmp_path, source, "BN003")
    assert after.count(dropout) == 1 and after.count("Dropout(0.4)") == 1, after
    last_bn = after.rindex("BatchNormalization()" if style != "subclass" else "self.bn2(x)")
    assert after.index(dropout) > last_bn
    assert bnlint("--select", "BN003", "model.py", cwd=tmp_path).stdout.startswith("All checks passed!")
    compile(after, "model.py", "exec")


def test_removed_dropout_leaves_its_comments(tmp_path):
    source = """\
    from keras import layers

    def block(x):
        x = layers.Dense(64)(x)
        # regularize the first block
        x = layers.Dropout(0.5)(x)  # heavy
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.3)(x)
        return x
    """
    after, _ = fixed(tmp_path, source, "BN003")
    assert after == textwrap.dedent("""\
    from keras import layers

    def block(x):
        x = layers.Dense(64)(x)
        # regularize the first block
        # heavy
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(0.3)(x)
        return x
    """)


# ---------------------------------------------------------------- the file's own spelling

UNET_STAR = """\
from keras.layers import *
from keras.models import Model
{prelude}

def unet(inputs):
    c1 = Conv2D(16, 3, padding="same"{fmt})(inputs)
    c1 = BatchNormalization({axis})(c1)
    c1 = Activation("relu")(c1)
    p1 = MaxPooling2D({pool})(c1)
    c2 = Conv2D(32, 3, padding="same"{fmt},
                activation="relu")(p1)
    p2 = MaxPooling2D({pool})(c2)
    b = Conv2D(64, 3, padding="same", activation="relu"{fmt})(p2)
    m2 = concatenate([UpSampling2D({pool})(b), c2], axis={cat})
    m1 = concatenate([UpSampling2D({pool})(m2), c1], axis={cat})
    return Model(inputs, Conv2D(1, 1{fmt})(m1))
"""


def test_star_import_gets_no_import_line_and_continuation_lines_keep_their_indent(tmp_path):
    source = UNET_STAR.format(prelude="", fmt="", axis="", pool="", cat="-1")
    after, _ = fixed(tmp_path, source, "BN004")
    assert after.splitlines()[:3] == ["from keras.layers import *", "from keras.models import Model", ""]
    assert ('    c2 = Conv2D(32, 3, padding="same")(p1)\n'
            '    c2 = BatchNormalization()(c2)\n'
            '    c2 = Activation("relu")(c2)\n') in after


def test_inserted_bn_uses_the_files_axis_variable(tmp_path):
    prelude = "from keras import backend as K\n\nbn_axis = 1 if K.image_data_format() == \"channels_first\" else 3\n"
    source = UNET_STAR.format(prelude=prelude, fmt="", axis="axis=bn_axis", pool="", cat="bn_axis")
    after, _ = fixed(tmp_path, source, "BN004")
    assert "    c2 = BatchNormalization(axis=bn_axis)(c2)\n" in after


def test_inserted_bn_after_a_channels_first_conv_gets_axis_1(tmp_path):
    prelude = "\nFORMAT = \"channels_first\"\n"
    source = UNET_STAR.format(prelude=prelude, fmt=", data_format=FORMAT", axis="axis=1",
                              pool="data_format=FORMAT", cat="1")
    after, _ = fixed(tmp_path, source, "BN001,BN004")
    assert "    c2 = BatchNormalization(axis=1)(c2)\n" in after
    assert bnlint("--select", "BN001,BN004", "model.py", cwd=tmp_path).stdout.startswith("All checks passed!")


def test_a_removed_list_element_before_the_last_leaves_its_trailing_comment(tmp_path):
    # The last element stays as written, so the comment of the one removed before it
    # moves to a line of its own instead of being lost with its element.
    source = """\
    import keras
    from keras import layers

    def build():
        return keras.Sequential([
            layers.BatchNormalization(axis=-1),  # first one
            layers.BatchNormalization(axis=-1),
        ])
    """
    after, _ = fixed(tmp_path, source, "BN011")
    assert after == textwrap.dedent("""\
    import keras
    from keras import layers

    def build():
        return keras.Sequential([
            # first one
            layers.BatchNormalization(axis=-1),
        ])
    """)
