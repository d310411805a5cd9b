"""BN008 activation-order: BN on the other side of its layer's activation than the configured convention."""
from __future__ import annotations

import textwrap

from cliutil import bnlint, write
from fixutil import fix
from lintutil import assert_findings, lint


def fixed(source: str, **options) -> str:
    outcome = fix(source, select=["BN008"], **options)
    assert outcome.problem is None, outcome.problem
    text = outcome.fixed.decode()
    compile(text, "model.py", "exec")
    again = fix(text, dedent=False, select=["BN008"], **options)
    assert again.fixed == outcome.fixed and not again.remaining  # a second --fix changes nothing
    return text


MIXED = """
import keras
from keras import layers

def build(inputs):
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)  # expect: BN008 info @layers.BatchNormalization
    x = layers.Conv2D(8, 3)(x)
    x = layers.ReLU()(x)
    x = layers.BatchNormalization()(x)  # expect: BN008 info
    x = layers.Conv2D(8, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return keras.Model(inputs, x)
"""


# ---------------------------------------------------------------- pre-activation, the default

def test_pre_activation_reports_a_bn_after_the_activation_in_functional_code():
    assert_findings(MIXED, "BN008")


def test_pre_activation_in_a_sequential_list_and_a_model_add_chain():
    assert_findings("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Dense(64, activation="relu"),
            layers.BatchNormalization(),  # expect: BN008 info
            layers.Dense(64),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dense(10, activation="softmax"),
        ])
        other = keras.Sequential()
        other.add(layers.Conv2D(8, 3))
        other.add(layers.LeakyReLU(0.2))
        other.add(layers.BatchNormalization())  # expect: BN008 info
        """, "BN008")


def test_pre_activation_in_a_subclassed_model_reports_where_the_bn_is_constructed():
    assert_findings("""
        import tensorflow as tf
        class Block(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = tf.keras.layers.Conv2D(8, 3, activation="elu")
                self.bn = tf.keras.layers.BatchNormalization()  # expect: BN008 info @tf.keras
            def call(self, x):
                return self.bn(self.conv(x))
        """, "BN008")


def test_a_helper_applied_twice_is_one_finding():
    [finding] = lint("""
        from keras import layers
        def block(x):
            x = layers.Conv2D(8, 3, activation="relu")(x)
            return layers.BatchNormalization()(x)
        def build(inputs):
            return block(block(inputs))
        """, "BN008")
    assert finding.line == 5
    assert finding.message == ('BatchNormalization sits after the relu activation of Conv2D (line 4): the convention '
                               'here (bn-position = "pre-activation") is Conv2D → BN → activation')


def test_bns_away_from_an_activation_are_not_judged():
    assert lint("""
        import keras
        from keras import layers
        def resnet_v2_unit(x):
            shortcut = x
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(8, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(8, 3, padding="same")(x)
            return layers.Add()([x, shortcut])
        def resnet_v1_tail(x, shortcut):
            x = layers.Conv2D(8, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)
            return layers.ReLU()(layers.Add()([x, shortcut]))
        def pooled(x):
            x = layers.Conv2D(8, 3, activation="relu")(x)
            x = layers.MaxPooling2D()(x)
            return layers.BatchNormalization()(x)
        def head(x):
            x = layers.Dense(8, activation="softmax")(x)
            y = layers.Dense(8, activation="linear")(x)
            return layers.BatchNormalization()(x), layers.BatchNormalization()(y)
        """, "BN008") == []


# ---------------------------------------------------------------- post-activation and consistent

def test_post_activation_reports_the_bn_before_the_activation():
    findings = lint(MIXED, "BN008", bn_position="post-activation")
    assert [d.line for d in findings] == [12]
    assert 'bn-position = "post-activation") is Conv2D → activation → BN' in findings[0].message


def test_consistent_reports_the_minority_order():
    findings = lint(MIXED, "BN008", bn_position="consistent")
    assert [d.line for d in findings] == [12]
    assert "2 of the 3 BatchNormalization layers of this model that sit next to an activation are " \
           "post-activation, this one is pre-activation" in findings[0].message


def test_consistent_on_a_tie_reports_the_later_ones():
    source = """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3)(inputs)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(8, 3, activation="relu")(x)
            x = layers.BatchNormalization()(x)
            return x
        """
    assert [d.line for d in lint(source, "BN008", bn_position="consistent")] == [8]
    swapped = """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, activation="relu")(inputs)
            x = layers.BatchNormalization()(x)
            x = layers.Conv2D(8, 3)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            return x
        """
    assert [d.line for d in lint(swapped, "BN008", bn_position="consistent")] == [7]


def test_each_model_has_its_own_majority():
    source = """
        import keras
        from keras import layers
        a = keras.Sequential([layers.Dense(8, activation="relu"), layers.BatchNormalization()])
        b = keras.Sequential([layers.Dense(8), layers.BatchNormalization(), layers.ReLU()])
        """
    assert lint(source, "BN008", bn_position="consistent") == []


# ---------------------------------------------------------------- the fixes

def test_fix_splits_the_activation_out_after_the_bn_keeping_its_comment():
    assert fixed("""
        from keras import layers
        def block(x):
            x = layers.Conv2D(
                64, 3,
                activation="relu",  # as in the paper
                padding="same",
            )(x)
            x = layers.BatchNormalization()(x)
            return x
        """) == textwrap.dedent("""
        from keras import layers
        def block(x):
            x = layers.Conv2D(
                64, 3,
                padding="same",
            )(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)  # as in the paper
            return x
        """)


def test_fix_in_every_style():
    sequential = fixed("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Dense(64, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(64),
            layers.ReLU(),
            layers.BatchNormalization(),
            layers.Dense(10, activation="softmax"),
        ])
        """)
    assert sequential.endswith(textwrap.dedent("""
        model = keras.Sequential([
            layers.Dense(64),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dense(64),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dense(10, activation="softmax"),
        ])
        """))
    chain = fixed("""
        from tensorflow.keras.layers import BatchNormalization, Conv2D, LeakyReLU
        from tensorflow.keras.models import Sequential
        model = Sequential()
        model.add(Conv2D(8, 3, activation="relu"))
        model.add(BatchNormalization())
        model.add(Conv2D(8, 3))
        model.add(LeakyReLU(0.2))
        model.add(BatchNormalization())
        """)
    assert chain.startswith("\nfrom tensorflow.keras.layers import Activation, BatchNormalization, Conv2D, LeakyReLU\n")
    assert chain.endswith("model.add(Conv2D(8, 3))\nmodel.add(BatchNormalization())\nmodel.add(Activation(\"relu\"))\n"
                          "model.add(Conv2D(8, 3))\nmodel.add(BatchNormalization())\nmodel.add(LeakyReLU(0.2))\n")
    subclass = fixed("""
        import tensorflow as tf
        class Block(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = tf.keras.layers.Conv2D(8, 3, activation="elu")
                self.bn = tf.keras.layers.BatchNormalization()
            def call(self, x):
                x = self.conv(x)
                x = self.bn(x)
                return x
        """)
    assert ("        self.conv = tf.keras.layers.Conv2D(8, 3)\n        self.bn = tf.keras.layers.BatchNormalization()\n"
            "        self.conv_act = tf.keras.layers.Activation(\"elu\")\n") in subclass
    assert "        x = self.bn(x)\n        x = self.conv_act(x)\n        return x\n" in subclass


def test_post_activation_fix_moves_the_bn_after_the_activation():
    text = fixed(MIXED.replace("  # expect: BN008 info @layers.BatchNormalization", "").replace(
        "  # expect: BN008 info", ""), bn_position="post-activation")
    assert ('    x = layers.Conv2D(8, 3, use_bias=False)(x)\n    x = layers.Activation("relu")(x)\n'
            '    x = layers.BatchNormalization()(x)\n    return keras.Model(inputs, x)\n') in text


def test_no_fix_when_the_activation_output_is_read_elsewhere():
    outcome = fix("""
        import keras
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, activation="relu")(inputs)
            y = layers.BatchNormalization()(x)
            return keras.Model(inputs, [x, y])
        """, select=["BN008"])
    assert not outcome.changed
    [finding] = outcome.remaining
    assert finding.fix is None


def test_fix_refused_with_a_reason_for_nested_calls():
    outcome = fix("""
        import tensorflow as tf
        class Block(tf.keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = tf.keras.layers.Conv2D(8, 3, activation="elu")
                self.bn = tf.keras.layers.BatchNormalization()
            def call(self, x):
                return self.bn(self.conv(x))
        """, select=["BN008"])
    assert not outcome.changed
    [finding] = outcome.remaining
    assert "not bound to a plain name" in finding.extra["fix_refused"]


def test_consistent_through_the_command_line(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextend-select = ["BN008"]\nbn-position = "consistent"\n')
    write(tmp_path / "m.py", MIXED)
    run = bnlint("--no-cache", "m.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "m.py:12:9: info: BN008 " in run.stdout and run.stdout.count("BN008") == 1
    run = bnlint("--no-cache", "--fix", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 fixed, 0 remaining" in run.stdout
    assert '    x = layers.Activation("relu")(x)\n    x = layers.BatchNormalization()(x)\n    return' in (
        tmp_path / "m.py").read_text()
