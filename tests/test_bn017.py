"""BN017 missing-normalization: a deep plain conv stack with no normalization anywhere, and its fix."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from cliutil import bnlint, write
from fixutil import fix
from lintutil import assert_findings, lint

ROOT = Path(__file__).resolve().parent.parent


def fixed(source: str, **options) -> str:
    """The text ``--fix --unsafe-fixes`` makes of ``source`` with BN017 alone, checked to settle in one run."""
    outcome = fix(source, select=["BN017"], **options)
    assert outcome.problem is None, outcome.problem
    text = outcome.fixed.decode()
    compile(text, "model.py", "exec")
    again = fix(text, dedent=False, select=["BN017"], **options)
    assert again.fixed == outcome.fixed and not again.remaining  # idempotent: nothing left to fix
    return text


# ---------------------------------------------------------------- where it reports, in every style

def test_sequential_list():
    assert_findings("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, activation="relu"),  # expect: BN017 info @layers.Conv2D
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ])
        """, "BN017")


def test_model_add_chain():
    assert_findings("""
        from tensorflow import keras
        model = keras.models.Sequential()
        model.add(keras.layers.Conv2D(32, 3, input_shape=(32, 32, 3)))  # expect: BN017 info @keras.layers.Conv2D
        model.add(keras.layers.LeakyReLU(0.1))
        for filters in (32, 64, 64):
            model.add(keras.layers.Conv2D(filters, 3))
            model.add(keras.layers.LeakyReLU(0.1))
        model.add(keras.layers.GlobalAveragePooling2D())
        model.add(keras.layers.Dense(10))
        """, "BN017")


def test_functional_helper_called_twice_is_one_finding_at_the_first_conv():
    assert_findings("""
        import keras
        from keras import layers

        def block(x, filters):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)  # expect: BN017 info
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            return layers.MaxPooling2D()(x)

        def build():
            inputs = keras.Input((32, 32, 3))
            x = block(block(inputs, 32), 64)
            return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
        """, "BN017")


def test_subclassed_model_reports_where_the_first_conv_is_constructed():
    assert_findings("""
        import tensorflow as tf
        class Net(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.c1 = tf.keras.layers.Conv2D(16, 3, activation="relu")  # expect: BN017 info @tf.keras
                self.c2 = tf.keras.layers.Conv2D(16, 3, activation="relu")
                self.c3 = tf.keras.layers.Conv2D(32, 3, activation="relu")
                self.c4 = tf.keras.layers.Conv2D(32, 3, activation="relu")
                self.head = tf.keras.layers.Dense(10)
            def call(self, x):
                return self.head(self.c4(self.c3(self.c2(self.c1(x)))))
        """, "BN017")


def test_the_message_counts_the_stack():
    [finding] = lint(ROOT.joinpath("examples", "vgg16.py").read_text(), "BN017")
    assert (finding.line, finding.column) == (16, 9)
    assert "stacks 13 convolutions in a row with no normalization layer anywhere" in finding.message
    assert "before its activation" in finding.message


# ---------------------------------------------------------------- what is not reported

PLAIN = """
import keras
from keras import layers

def build():
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    {extra}
    x = layers.Conv2D(32, 3, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
"""


def test_a_model_keras_builds_as_functional_is_judged():
    # Keras's own applications (VGG16, VGG19) build ``Functional(inputs, x)``: no "Model" in their code.
    source = PLAIN.replace("import keras\n", "from keras.src.models import Functional\n").replace(
        "keras.Input(", "layers.Input(").replace("return keras.Model(", "return Functional(")
    assert "Model" not in source
    assert len(lint(source.format(extra="pass"), "BN017")) == 1


def test_a_plain_stack_is_reported_and_any_normalization_silences_it():
    assert len(lint(PLAIN.format(extra="pass"), "BN017")) == 1
    for norm in ("layers.BatchNormalization()(x)", "layers.LayerNormalization()(x)",
                 "layers.GroupNormalization(groups=8)(x)", "layers.UnitNormalization()(x)",
                 "tfa.layers.InstanceNormalization()(x)", "InstanceNorm2d()(x)", "PixelNorm()(x)",
                 "self_norm_layer(x)"):
        assert lint(PLAIN.format(extra=f"x = {norm}"), "BN017") == [], norm


def test_a_normalization_layer_only_a_flag_applies_still_counts():
    source = PLAIN.format(extra="if use_bn:\n        x = layers.BatchNormalization()(x)")
    assert lint(source, "BN017") == []


def test_three_convs_are_not_deep_unless_configured():
    shallow = PLAIN.replace('    x = layers.Conv2D(32, 3, activation="relu")(x)\n    return', "    return")
    assert lint(shallow.format(extra="pass"), "BN017") == []
    assert len(lint(shallow.format(extra="pass"), "BN017", min_conv_stack=3)) == 1


def test_parallel_convs_are_width_not_depth():
    source = """
        import keras
        from keras import layers
        def build():
            inputs = keras.Input((32, 32, 3))
            towers = [layers.Conv2D(8, k, padding="same")(inputs) for k in (1, 3, 5, 7)]
            return keras.Model(inputs, [layers.Flatten()(t) for t in towers])
        """
    assert lint(source, "BN017") == []


def test_residual_networks_and_unets_are_not_plain_stacks():
    residual = PLAIN.format(extra="x = layers.Add()([x, layers.Conv2D(32, 1)(x)])")
    assert lint(residual, "BN017") == []
    unet = PLAIN.format(extra="x = layers.concatenate([x, layers.UpSampling2D()(layers.MaxPooling2D()(x))])")
    assert lint(unet, "BN017") == []


def test_a_block_traced_on_its_own_is_not_a_model():
    # A head layer or a tower function: the model they end up in may normalize elsewhere (RetinaNet's
    # heads have no normalization on purpose, its backbone has BN).
    assert lint("""
        import keras
        from keras import layers
        class Head(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.convs = [layers.Conv2D(256, 3, padding="same", activation="relu") for _ in range(4)]
                self.out = layers.Conv2D(9, 3, padding="same")
            def call(self, x):
                for conv in self.convs:
                    x = conv(x)
                return self.out(x)
        def tower(x):
            for filters in (32, 32, 64, 64):
                x = layers.Conv2D(filters, 3, activation="relu")(x)
            return x
        """, "BN017") == []


def test_gan_discriminators_and_critics_are_left_alone():
    for name in ("build_discriminator", "make_critic"):
        assert lint(PLAIN.replace("def build", f"def {name}").format(extra="pass"), "BN017") == [], name
    penalty = PLAIN.replace("def build():", "def build_d():").format(extra="pass") + textwrap.dedent("""
        import tensorflow as tf
        d = build_d()
        def gradient_penalty(real, fake):
            interpolated = real + 0.5 * (fake - real)
            with tf.GradientTape() as tape:
                tape.watch(interpolated)
                scores = d(interpolated, training=True)
            return tape.gradient(scores, [interpolated])[0]
        """)
    assert lint(penalty, "BN017") == []


# ---------------------------------------------------------------- the fix, pre-activation (the default)

def test_fix_in_a_sequential_list_with_named_imports():
    text = fixed("""
        from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
        from tensorflow.keras.models import Sequential

        model = Sequential([
            Conv2D(32, 3, activation="relu", input_shape=(32, 32, 3)),  # stem
            Conv2D(32, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu"),
            Conv2D(64, 3, activation="relu"),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ])
        """)
    assert text == textwrap.dedent("""
        from tensorflow.keras.layers import Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
        from tensorflow.keras.models import Sequential

        model = Sequential([
            Conv2D(32, 3, input_shape=(32, 32, 3)),  # stem
            BatchNormalization(),
            Activation("relu"),
            Conv2D(32, 3),
            BatchNormalization(),
            Activation("relu"),
            MaxPooling2D(),
            Conv2D(64, 3),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(64, 3),
            BatchNormalization(),
            Activation("relu"),
            Flatten(),
            Dense(128),
            BatchNormalization(),
            Activation("relu"),
            Dense(10, activation="softmax"),
        ])
        """)


def test_fix_in_a_model_add_chain_goes_before_a_separate_activation_layer():
    text = fixed("""
        import keras
        from keras import layers
        model = keras.Sequential()
        model.add(layers.Conv2D(32, 3, input_shape=(32, 32, 3)))
        model.add(layers.LeakyReLU(0.1))
        model.add(layers.Conv2D(32, 3))
        model.add(layers.LeakyReLU(0.1))
        model.add(layers.Conv2D(64, 3))
        model.add(layers.LeakyReLU(0.1))
        model.add(layers.Conv2D(64, 3))
        model.add(layers.GlobalAveragePooling2D())
        model.add(layers.Dense(10, activation="softmax"))
        """)
    assert text.count("model.add(layers.Conv2D(") == 4
    assert text.count("model.add(layers.BatchNormalization())\nmodel.add(layers.LeakyReLU(0.1))\n") == 3
    assert "model.add(layers.Conv2D(64, 3))\nmodel.add(layers.BatchNormalization())\n" \
           "model.add(layers.GlobalAveragePooling2D())\n" in text
    assert "model.add(layers.Dense(10, activation=\"softmax\"))\n" in text  # the output Dense: no BN


def test_fix_in_a_helper_goes_into_the_helper_once():
    text = fixed("""
        import keras
        from keras import layers

        def block(x, filters):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            return layers.MaxPooling2D()(x)

        def build():
            inputs = keras.Input((32, 32, 3))
            x = block(block(inputs, 32), 64)
            return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
        """)
    assert text.count("layers.BatchNormalization()") == 2
    assert ('    x = layers.Conv2D(filters, 3, padding="same")(x)\n    x = layers.BatchNormalization()(x)\n'
            '    x = layers.Activation("relu")(x)\n') in text


def test_fix_in_a_subclassed_model():
    text = fixed("""
        import tensorflow as tf
        class Net(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.c1 = tf.keras.layers.Conv2D(16, 3, activation="relu")
                self.c2 = tf.keras.layers.Conv2D(16, 3, activation="relu")
                self.c3 = tf.keras.layers.Conv2D(32, 3, activation="relu")
                self.c4 = tf.keras.layers.Conv2D(32, 3, activation="relu")
                self.pool = tf.keras.layers.GlobalAveragePooling2D()
                self.head = tf.keras.layers.Dense(10)
            def call(self, x):
                x = self.c1(x)
                x = self.c2(x)
                x = self.c3(x)
                x = self.c4(x)
                return self.head(self.pool(x))
        """)
    assert ("        self.c1 = tf.keras.layers.Conv2D(16, 3)\n"
            "        self.c1_bn = tf.keras.layers.BatchNormalization()\n"
            "        self.c1_act = tf.keras.layers.Activation(\"relu\")\n") in text
    assert "        x = self.c4(x)\n        x = self.c4_bn(x)\n        x = self.c4_act(x)\n" in text


def test_a_channels_first_stack_gets_the_channel_axis():
    text = fixed(PLAIN.replace('activation="relu")', 'activation="relu", data_format="channels_first")')
                 .format(extra="pass"))
    assert text.count("layers.BatchNormalization(axis=1)(x)") == 4


def test_no_bn_where_a_heavy_dropout_would_feed_it_nor_after_the_output_layer():
    text = fixed("""
        import keras
        from keras import layers
        def build():
            inputs = keras.Input((32, 32, 3))
            x = inputs
            for filters in (16, 16, 32, 32):
                x = layers.Conv2D(filters, 3, activation="relu")(x)
            x = layers.Flatten()(x)
            x = layers.Dense(256, activation="relu", name="fc1")(x)
            x = layers.Dropout(0.5)(x)
            x = layers.Dense(256, activation="relu", name="fc2")(x)
            x = layers.Dropout(0.1)(x)
            x = layers.Dense(64, activation="relu", name="fc3")(x)
            return keras.Model(inputs, layers.Dense(10, activation="softmax", name="out")(x))
        """)
    assert 'layers.Dense(256, name="fc1")(x)\n    x = layers.BatchNormalization(name="fc1_bn")(x)' in text
    assert 'layers.Dense(256, activation="relu", name="fc2")(x)\n    x = layers.Dropout(0.1)(x)' in text
    # fc3 is fed by a light dropout only, after fc2 whose BN would have been fed by the heavy one.
    assert 'layers.Dense(64, activation="relu", name="fc3")(x)\n' in text
    assert 'layers.Dense(10, activation="softmax", name="out")' in text
    assert text.count("BatchNormalization(") == 2  # the loop's conv (once) and fc1


def test_fix_is_refused_with_a_reason_where_a_conv_is_not_a_simple_chain():
    outcome = fix("""
        import keras
        from keras import layers
        def build():
            inputs = keras.Input((32, 32, 3))
            x = layers.Conv2D(16, 3, activation="relu")(layers.Conv2D(16, 3, activation="relu")(inputs))
            x = layers.Conv2D(32, 3, activation="relu")(x)
            x = layers.Conv2D(32, 3, activation="relu")(x)
            return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
        """, select=["BN017"])
    assert not outcome.changed
    [finding] = outcome.remaining
    assert "not bound to a plain name" in finding.extra["fix_refused"]


# ---------------------------------------------------------------- the fix, post-activation

def test_post_activation_puts_the_bn_after_each_activation():
    text = fixed(PLAIN.format(extra="pass"), bn_position="post-activation")
    assert text.count('activation="relu")(x)\n    x = layers.BatchNormalization()(x)\n') == 3
    assert 'layers.Conv2D(16, 3, activation="relu")(inputs)\n    x = layers.BatchNormalization()(x)\n' in text
    assert "Activation(" not in text
    separate = fixed("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((32, 32, 3)),
            layers.Conv2D(8, 3), layers.ReLU(),
            layers.Conv2D(8, 3), layers.ReLU(),
            layers.Conv2D(8, 3), layers.ReLU(),
            layers.Conv2D(8, 3), layers.ReLU(),
            layers.Flatten(), layers.Dense(2),
        ])
        """, bn_position="post-activation")
    assert separate.count("layers.ReLU(),\n    layers.BatchNormalization(),\n") == 4


# ---------------------------------------------------------------- end to end, on the VGG16 example

def test_vgg16_through_the_command_line(tmp_path):
    target = tmp_path / "vgg16.py"
    shutil.copy(ROOT / "examples" / "vgg16.py", target)
    run = bnlint("--isolated", "--select", "BN017", "--fix", "--unsafe-fixes", "--no-cache", target.name, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 fixed, 0 remaining" in run.stdout
    text = target.read_text()
    assert text.count("BatchNormalization(") == 14 and text.count('Activation("relu"') == 14
    again = bnlint("--isolated", "--select", "BN017", "--fix", "--unsafe-fixes", "--no-cache", target.name,
                   cwd=tmp_path)
    assert again.returncode == 0 and target.read_text() == text
    # The default rules find nothing wrong with the new BNs (at most the conv biases they cancel, BN005, info).
    rest = bnlint("--isolated", "--no-cache", "--output-format", "json", target.name, cwd=tmp_path)
    assert rest.returncode == 0, rest.stdout
    assert {d["code"] for d in json.loads(rest.stdout)} <= {"BN005"}


def test_vgg16_post_activation_from_the_config(tmp_path):
    target = tmp_path / "vgg16.py"
    shutil.copy(ROOT / "examples" / "vgg16.py", target)
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nselect = ["BN017"]\nbn-position = "post-activation"\n')
    run = bnlint("--fix", "--unsafe-fixes", "--no-cache", target.name, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = target.read_text()
    assert text.count('activation="relu", name="block1_conv1")(inputs)\n    x = layers.BatchNormalization(') == 1
    assert "Activation(" not in text and text.count("BatchNormalization(") == 14


def test_the_readme_shows_the_real_vgg16_rewrite():
    command = "bnlint --select BN017 --diff --unsafe-fixes examples/vgg16.py"
    shown = (ROOT / "README.md").read_text(encoding="utf-8").split(f"\n$ {command}\n", 1)[1].split("```", 1)[0]
    run = bnlint(*command.split()[1:], "--no-cache", cwd=ROOT)
    assert run.returncode == 1, run.stderr
    assert run.stdout == shown
