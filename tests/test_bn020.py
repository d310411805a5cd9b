"""BN020 absorbable-scale: gamma that the next linear layer absorbs exactly (info, off by default)."""
from __future__ import annotations

import json

import pytest
from cliutil import bnlint, write
from lintutil import assert_findings, findings, lint

# ------------------------------------------------------------------ by style

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),  # expect: BN020 info @layers.BatchNormalization
    layers.ReLU(),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding="same", use_bias=False),
    layers.BatchNormalization(scale=False),
    layers.ReLU(),
    layers.Flatten(),
    layers.Dropout(0.1),
    layers.Dense(10, activation="softmax"),
])
"""

MODEL_ADD = """
import keras
from keras import layers

model = keras.Sequential()
model.add(layers.Conv2D(32, 3, input_shape=(28, 28, 1)))
model.add(layers.BatchNormalization())  # expect: BN020 info @layers.BatchNormalization
model.add(layers.Activation("relu"))
model.add(layers.AveragePooling2D())
model.add(layers.Conv2D(64, 3))
model.add(layers.BatchNormalization())
model.add(layers.Activation("tanh"))
model.add(layers.Flatten())
model.add(layers.Dense(10))
"""

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(32, 3, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
x = layers.LeakyReLU(0.1)(x)
x = layers.ZeroPadding2D()(x)
x = layers.Conv2D(64, 3, use_bias=False)(x)
x = layers.BatchNormalization(scale=True)(x)
x = layers.ReLU()(x)
x = layers.Conv2D(64, 3)(x)
outputs = layers.BatchNormalization()(x)
model = keras.Model(inputs=inputs, outputs=outputs)
"""

NESTED_CALLS = """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(8, 3)(layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3)(inputs))))  # expect: BN020 info @layers.BatchNormalization
y = layers.Activation("sigmoid")(layers.BatchNormalization()(layers.Conv2D(8, 3)(x)))
model = keras.Model(inputs, layers.Conv2D(1, 1)(y))
"""

HELPER_FUNCTION = """
import keras
from keras import layers


def conv_bn_act(x, filters, activation, scale=None):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    if scale is None:
        x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
    else:
        x = layers.BatchNormalization(scale=scale)(x)
    return layers.Activation(activation)(x)


def build():
    inputs = keras.Input(shape=(128, 128, 3))
    x = conv_bn_act(inputs, 32, "relu")
    x = conv_bn_act(x, 64, "relu", scale=False)
    x = conv_bn_act(x, 64, "swish", scale=True)
    outputs = layers.Conv2D(1, 1)(x)
    return keras.Model(inputs, outputs)
"""

HELPER_FUNCTION_ACTIVATION_FLOWS_IN = """
import keras
from keras import layers


def conv_bn_act(x, filters, activation):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation(activation)(x)


def build():
    inputs = keras.Input(shape=(128, 128, 3))
    x = conv_bn_act(inputs, 32, "sigmoid")
    outputs = layers.Conv2D(1, 1)(x)
    return keras.Model(inputs, outputs)
"""

FOR_LOOP = """
import keras
from keras import layers

inputs = keras.Input(shape=(32, 32, 3))
x = inputs
for width in (16, 32, 64):
    x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
    x = layers.ReLU()(x)
outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
"""

SUBCLASS_MODEL = """
import keras
from keras import layers


class SmallNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(32, 3, use_bias=False)
        self.bn1 = layers.BatchNormalization()  # expect: BN020 info @layers.BatchNormalization
        self.conv2 = layers.Conv2D(64, 3, use_bias=False)
        self.bn2 = layers.BatchNormalization()
        self.flatten = layers.Flatten()
        self.out = layers.Dense(10)

    def call(self, x, training=False):
        x = keras.activations.relu(self.bn1(self.conv1(x), training=training))
        x = self.conv2(x)
        x = self.bn2(x, training=training)
        x = keras.activations.tanh(x)
        return self.out(self.flatten(x))
"""

SUBCLASS_LAYER = """
import tensorflow as tf


class Bottleneck(tf.keras.layers.Layer):
    def __init__(self, filters):
        super().__init__()
        self.reduce = tf.keras.layers.Conv2D(filters, 1, use_bias=False)
        self.reduce_bn = tf.keras.layers.BatchNormalization()  # expect: BN020 info @tf.keras.layers.BatchNormalization
        self.conv = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.conv_bn = tf.keras.layers.BatchNormalization()
        self.expand = tf.keras.layers.Conv2D(filters * 4, 1)

    def call(self, inputs, training=None):
        x = tf.nn.relu(self.reduce_bn(self.reduce(inputs), training=training))
        x = tf.nn.relu6(self.conv_bn(self.conv(x), training=training))
        return self.expand(x)
"""


@pytest.mark.parametrize("source", [
    pytest.param(SEQUENTIAL_LIST, id="sequential-list"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(NESTED_CALLS, id="nested-calls"),
    pytest.param(HELPER_FUNCTION, id="helper-function"),
    pytest.param(HELPER_FUNCTION_ACTIVATION_FLOWS_IN, id="helper-activation-argument"),
    pytest.param(FOR_LOOP, id="for-loop"),
    pytest.param(SUBCLASS_MODEL, id="subclass-model"),
    pytest.param(SUBCLASS_LAYER, id="subclass-layer"),
])
def test_absorbed_scale_styles(source):
    assert_findings(source, "BN020")


def test_absorbed_scale_message_and_fix():
    [diagnostic] = lint(FUNCTIONAL, "BN020")
    assert diagnostic.name == "absorbable-scale"
    assert "absorbed exactly by the next linear layer (Conv2D)" in diagnostic.message
    assert [edit.describe() for edit in diagnostic.fix.edits] == [
        {"kind": "set-keyword", "keyword": "scale", "value": "False"}]
    assert diagnostic.fix.applicability.value == "unsafe"  # it only saves parameters


@pytest.mark.parametrize("between", [
    "",
    "layers.ReLU()",
    'layers.Activation("relu")',
    'layers.Activation("linear")',
    "layers.LeakyReLU()",
    "layers.PReLU()",
    "layers.MaxPooling2D()",
    "layers.AveragePooling2D()",
    "layers.Dropout(0.3)",
    "layers.SpatialDropout2D(0.1)",
    "layers.ZeroPadding2D()",
    "layers.UpSampling2D()",
    "layers.Cropping2D(1)",
])
def test_scale_transparent_ops_before_the_linear_layer(between):
    chain = f"    x = {between}(x)\n" if between else ""
    source = (
        "from keras import layers\n"
        "\n"
        "def block(x):\n"
        "    x = layers.Conv2D(32, 3)(x)\n"
        "    x = layers.BatchNormalization()(x)\n"
        f"{chain}"
        "    return layers.Conv2D(64, 3)(x)\n"
    )
    assert findings(source, "BN020") == [("BN020", 5, 9, "info")]


@pytest.mark.parametrize("linear", [
    "layers.Conv2D(8, 3)",
    "layers.SeparableConv2D(8, 3)",
    "layers.DepthwiseConv2D(3)",
    "layers.Conv2DTranspose(8, 3)",
    "layers.Dense(8)",
])
def test_linear_layers_that_absorb(linear):
    source = f"""
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN020 info @layers.BatchNormalization
        x = layers.ReLU()(x)
        return {linear}(x)
    """
    assert_findings(source, "BN020")


def test_flatten_then_dense_absorbs():
    source = """
    from keras import layers

    def head(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN020 info @layers.BatchNormalization
        x = layers.ReLU()(x)
        x = layers.Flatten()(x)
        return layers.Dense(10)(x)
    """
    assert_findings(source, "BN020")


def test_channel_axis_concatenation_is_transparent():
    source = """
    from keras import layers

    def block(x, y):
        a = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN020 info @layers.BatchNormalization
        a = layers.ReLU()(a)
        merged = layers.concatenate([a, layers.Conv2D(8, 3)(y)], axis=-1)
        return layers.Conv2D(16, 1)(merged)
    """
    assert_findings(source, "BN020")


def test_concatenation_on_another_axis_keeps_gamma():
    source = """
    from keras import layers

    def block(x, y):
        a = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        a = layers.ReLU()(a)
        merged = layers.Concatenate(axis=1)([a, layers.Conv2D(8, 3)(y)])
        return layers.Conv2D(16, 1)(merged)
    """
    assert findings(source, "BN020") == []


# ---------------------------------------------------------------- negatives

@pytest.mark.parametrize("activation", [
    'layers.Activation("sigmoid")',
    'layers.Activation("tanh")',
    'layers.Activation("relu6")',
    'layers.Activation("elu")',
    'layers.Activation("gelu")',
    'layers.Activation("swish")',
    'layers.Activation("softmax")',
    "layers.ReLU(max_value=6.0)",
    "layers.ReLU(6.0)",
    "layers.ELU()",
    "layers.Softmax()",
    "keras.activations.sigmoid",
    "keras.ops.tanh",
])
def test_non_homogeneous_activation_keeps_gamma(activation):
    source = f"""
    import keras
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = {activation}(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert findings(source, "BN020") == []


def test_path_reaching_relu6_somewhere_keeps_gamma():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        x = layers.ReLU(max_value=6)(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert findings(source, "BN020") == []


def test_residual_add_keeps_gamma():
    source = """
    import keras
    from keras import layers

    def residual_block(x, filters):
        shortcut = x
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)  # expect: BN020 info @layers.BatchNormalization
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        y = layers.Add()([y, shortcut])
        y = layers.Activation("relu")(y)
        return layers.Conv2D(filters, 1)(y)

    def build():
        inputs = keras.Input(shape=(32, 32, 64))
        return keras.Model(inputs, residual_block(inputs, 64))
    """
    assert_findings(source, "BN020")


def test_residual_via_operator_and_multiply_keep_gamma():
    source = """
    from keras import layers

    def block(x, gate):
        y = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(x))
        z = layers.ReLU()(y + x)
        w = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(z))
        w = layers.Multiply()([w, gate])
        return layers.Conv2D(8, 1)(layers.ReLU()(w))
    """
    assert findings(source, "BN020") == []


def test_bn_at_model_output_keeps_gamma():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(16,))
    x = layers.Dense(32)(inputs)
    x = layers.BatchNormalization()(x)
    features = layers.ReLU()(x)
    logits = layers.Dense(10)(features)
    model = keras.Model(inputs, [logits, features])
    """
    assert findings(source, "BN020") == []


def test_bn_as_last_layer_of_sequential_keeps_gamma():
    source = """
    import keras
    from keras import layers

    model = keras.Sequential([
        layers.Dense(64, input_shape=(16,)),
        layers.ReLU(),
        layers.Dense(8),
        layers.BatchNormalization(),
    ])
    """
    assert findings(source, "BN020") == []


def test_one_consumer_path_without_linear_layer_keeps_gamma():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        a = layers.Conv2D(8, 3)(x)
        b = layers.Activation("sigmoid")(x)
        return layers.concatenate([a, b])
    """
    assert findings(source, "BN020") == []


def test_explicit_scale_true_or_unknown_scale_is_left_alone():
    source = """
    from keras import layers

    def block(x, use_scale, **bn_kwargs):
        x = layers.BatchNormalization(scale=True)(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        x = layers.BatchNormalization(scale=use_scale)(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        x = layers.BatchNormalization(**bn_kwargs)(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert findings(source, "BN020") == []


def test_wrong_axis_is_bn001_only():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
        x = layers.ReLU()(x)
        return layers.Conv2D(8, 3, data_format="channels_first")(x)
    """
    assert_findings(source, "BN001", "BN020")


@pytest.mark.parametrize("function", ["tf.nn.relu", "keras.activations.relu", "keras.ops.relu"])
def test_activation_layer_given_a_function(function):
    source = f"""
    import keras
    import tensorflow as tf
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN020 info @layers.BatchNormalization
        x = layers.Activation({function})(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert_findings(source, "BN020")


def test_helper_traced_with_a_homogeneous_and_a_smooth_activation_is_not_reported():
    # A block helper is called once with ReLU and once with hard-swish: gamma is
    # absorbed in one use but carries meaning in the other, and the fix would change both.
    assert_findings(
        """
        import keras
        from keras import layers

        def relu(x):
            return layers.ReLU()(x)

        def hard_swish(x):
            return layers.Activation("hard_swish")(x)

        def expand(x, activation):
            x = layers.Conv2D(32, 1, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = activation(x)
            return layers.DepthwiseConv2D(3)(x)

        def build():
            inputs = keras.Input(shape=(32, 32, 3))
            x = expand(inputs, relu)
            x = expand(x, hard_swish)
            return keras.Model(inputs, x)
        """,
        "BN020",
    )


def test_helper_traced_twice_with_homogeneous_activations_is_reported_once():
    assert_findings(
        """
        import keras
        from keras import layers

        def expand(x):
            x = layers.Conv2D(32, 1, use_bias=False)(x)
            x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
            x = layers.ReLU()(x)
            return layers.DepthwiseConv2D(3)(x)

        def build():
            inputs = keras.Input(shape=(32, 32, 3))
            return keras.Model(inputs, expand(expand(inputs)))
        """,
        "BN020",
    )




# ------------------------------------------------------ exactness conditions

@pytest.mark.parametrize("between", [
    "",
    'layers.Activation("linear")',
    "layers.AveragePooling2D()",
    "layers.Dropout(0.3)",
    "layers.ZeroPadding2D()",
    "layers.UpSampling2D()",
    "layers.Cropping2D(1)",
])
def test_linear_ops_pass_any_gamma_whatever_feeds_the_bn(between):
    # BN on a model input: no layer before it can take a negative gamma's sign, and none needs to.
    chain = f"    x = {between}(x)\n" if between else ""
    source = (
        "from keras import layers\n"
        "\n"
        "def block(x):\n"
        "    x = layers.BatchNormalization()(x)\n"
        f"{chain}"
        "    return layers.Conv2D(64, 3)(x)\n"
    )
    assert findings(source, "BN020") == [("BN020", 4, 9, "info")]


@pytest.mark.parametrize("between", [
    "layers.ReLU()",
    'layers.Activation("relu")',
    'layers.Activation("leaky_relu")',
    "layers.LeakyReLU()",
    "layers.PReLU()",
    "layers.MaxPooling2D()",
])
def test_sign_sensitive_ops_need_a_linear_layer_before_the_bn(between):
    # max(g*x) = g*max(x) and relu(g*x) = g*relu(x) only for g > 0. With nothing linear
    # before the BN to take a negative gamma's sign, the next conv cannot absorb gamma.
    source = f"""
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(x)
        x = {between}(x)
        return layers.Conv2D(64, 3)(x)
    """
    assert findings(source, "BN020") == []


@pytest.mark.parametrize("style", ["sequential", "functional", "subclass"])
def test_conv_bn_relu_conv_is_reported(style):
    assert_findings(_conv_bn_then(style, "layers.ReLU()"), "BN020")


@pytest.mark.parametrize("style", ["sequential", "functional", "subclass"])
def test_conv_bn_maxpool_conv_is_reported(style):
    assert_findings(_conv_bn_then(style, "layers.MaxPooling2D()"), "BN020")


def _conv_bn_then(style: str, between: str) -> str:
    """Conv -> BN -> ``between`` -> Conv, written in ``style``, its BN marked as a BN020 finding."""
    mark = "# expect: BN020 info @layers.BatchNormalization"
    if style == "sequential":
        return f"""
        import keras
        from keras import layers

        model = keras.Sequential([
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(16, 3, use_bias=False),
            layers.BatchNormalization(),  {mark}
            {between},
            layers.Conv2D(32, 3),
        ])
        """
    if style == "functional":
        return f"""
        import keras
        from keras import layers

        inputs = keras.Input(shape=(32, 32, 3))
        x = layers.Conv2D(16, 3, use_bias=False)(inputs)
        x = layers.BatchNormalization()(x)  {mark}
        x = {between}(x)
        model = keras.Model(inputs, layers.Conv2D(32, 3)(x))
        """
    return f"""
    import keras
    from keras import layers

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = layers.Conv2D(16, 3, use_bias=False)
            self.bn1 = layers.BatchNormalization()  {mark}
            self.between = {between}
            self.conv2 = layers.Conv2D(32, 3)

        def call(self, x):
            return self.conv2(self.between(self.bn1(self.conv1(x))))
    """


@pytest.mark.parametrize("style", ["sequential", "functional", "subclass"])
def test_dense_features_reshaped_into_an_image_keep_gamma(style):
    # A DCGAN generator: Dense(7*7*128) -> BN -> ReLU -> Reshape -> Conv2DTranspose. BN's
    # features become positions and channels; the conv shares one kernel across positions,
    # so it cannot take over a scale that differs per position.
    sources = {
        "sequential": """
        import keras
        from keras import layers

        generator = keras.Sequential([
            keras.Input(shape=(100,)),
            layers.Dense(7 * 7 * 128, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same"),
        ])
        """,
        "functional": """
        import keras
        from keras import layers

        noise = keras.Input(shape=(100,))
        x = layers.Dense(7 * 7 * 128, use_bias=False)(noise)
        x = layers.BatchNormalization()(x)
        x = layers.Reshape((7, 7, 128))(x)
        image = layers.Conv2D(1, 3, padding="same")(x)
        generator = keras.Model(noise, image)
        """,
        "subclass": """
        import keras
        from keras import layers

        class Generator(keras.Model):
            def __init__(self):
                super().__init__()
                self.project = layers.Dense(7 * 7 * 128, use_bias=False)
                self.bn = layers.BatchNormalization()
                self.to_image = layers.Reshape((7, 7, 128))
                self.up = layers.Conv2DTranspose(64, 5, strides=2, padding="same")

            def call(self, z):
                x = keras.activations.relu(self.bn(self.project(z)))
                return self.up(self.to_image(x))
        """,
    }
    assert findings(sources[style], "BN020") == []


def test_permute_is_not_transparent():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.Permute((2, 1, 3))(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert findings(source, "BN020") == []


@pytest.mark.parametrize("style", ["functional", "subclass"])
def test_densenet_concatenation_then_bn_relu_conv_keeps_gamma(style):
    # DenseNet's composite function: concat(features) -> BN -> ReLU -> Conv. The BN's input is
    # a concatenation, not one linear layer, so a negative gamma's sign has nowhere to go.
    sources = {
        "functional": """
        import keras
        from keras import layers

        def dense_block(x, blocks):
            for _ in range(blocks):
                y = layers.BatchNormalization()(x)
                y = layers.Activation("relu")(y)
                y = layers.Conv2D(32, 3, padding="same", use_bias=False)(y)
                x = layers.Concatenate()([x, y])
            return x

        inputs = keras.Input(shape=(32, 32, 64))
        features = dense_block(inputs, 3)
        model = keras.Model(inputs, layers.Conv2D(10, 1)(features))
        """,
        "subclass": """
        import keras
        from keras import layers

        class DenseLayer(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.bn = layers.BatchNormalization()
                self.conv = layers.Conv2D(32, 3, padding="same", use_bias=False)
                self.merge = layers.Concatenate()

            def call(self, x):
                return self.merge([x, self.conv(keras.activations.relu(self.bn(x)))])
        """,
    }
    assert findings(sources[style], "BN020") == []


def test_concatenation_then_bn_then_conv_is_exact():
    # No ReLU between the BN and the conv: a linear path absorbs any gamma, negative ones too.
    source = """
    from keras import layers

    def transition(a, b):
        x = layers.Concatenate()([a, b])
        x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
        return layers.Conv2D(64, 1)(layers.AveragePooling2D()(x))
    """
    assert_findings(source, "BN020")


@pytest.mark.parametrize("style", ["functional", "subclass"])
def test_pre_activation_residual_keeps_gamma(style):
    # ResNet v2: the BN normalizes the sum of a residual Add, then ReLU, then the conv.
    sources = {
        "functional": """
        import keras
        from keras import layers

        def preact_block(x):
            y = layers.Conv2D(64, 3, padding="same")(x)
            y = layers.Conv2D(64, 3, padding="same")(y)
            x = layers.Add()([x, y])
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            return layers.Conv2D(64, 3, padding="same")(x)

        inputs = keras.Input(shape=(32, 32, 64))
        model = keras.Model(inputs, preact_block(inputs))
        """,
        "subclass": """
        import keras
        from keras import layers

        class PreActBlock(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv1 = layers.Conv2D(64, 3, padding="same")
                self.conv2 = layers.Conv2D(64, 3, padding="same")
                self.bn = layers.BatchNormalization()
                self.conv3 = layers.Conv2D(64, 3, padding="same")

            def call(self, x):
                x = x + self.conv2(self.conv1(x))
                return self.conv3(keras.activations.relu(self.bn(x)))
        """,
    }
    assert findings(sources[style], "BN020") == []


def test_linear_layer_that_feeds_another_branch_cannot_take_the_sign():
    source = """
    from keras import layers

    def block(x):
        c = layers.Conv2D(8, 3, padding="same")(x)
        y = layers.ReLU()(layers.BatchNormalization()(c))
        return layers.Concatenate()([layers.Conv2D(8, 1)(y), c])
    """
    assert findings(source, "BN020") == []


def test_conv_with_its_own_activation_cannot_take_the_sign():
    # Conv2D(activation="relu") -> BN: the sign would have to cross the conv's ReLU.
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(8, 3)(x)
        x = layers.Conv2D(8, 3, activation="relu")(x)
        x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
        return layers.Conv2D(8, 3)(x)
    """
    assert_findings(source, "BN020")


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_flatten_then_dense_is_reported_flatten_then_reshape_is_not(style):
    if style == "sequential":
        source = """
        import keras
        from keras import layers

        head = keras.Sequential([
            keras.Input(shape=(8, 8, 32)),
            layers.Conv2D(32, 3),
            layers.BatchNormalization(),  # expect: BN020 info @layers.BatchNormalization
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10),
        ])

        decoder = keras.Sequential([
            keras.Input(shape=(8, 8, 32)),
            layers.Conv2D(32, 3),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Reshape((12, 12, 16)),
            layers.Conv2D(3, 3),
        ])
        """
    else:
        source = """
        import keras
        from keras import layers

        inputs = keras.Input(shape=(8, 8, 32))
        a = layers.BatchNormalization()(layers.Conv2D(32, 3)(inputs))  # expect: BN020 info @layers.BatchNormalization
        a = layers.Dense(10)(layers.Flatten()(layers.ReLU()(a)))
        b = layers.BatchNormalization()(layers.Conv2D(32, 3)(inputs))
        b = layers.Conv2D(3, 3)(layers.Reshape((12, 12, 16))(layers.Flatten()(b)))
        model = keras.Model(inputs, [a, b])
        """
    assert_findings(source, "BN020")


def test_flatten_into_a_conv_through_nothing_else_is_not_absorbed():
    # After Flatten the channels are features of a vector: only a Dense takes them over.
    source = """
    from keras import layers

    def head(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.Flatten()(x)
        return layers.Conv1D(8, 3)(x)
    """
    assert findings(source, "BN020") == []


def test_global_average_pooling_then_dense_is_reported():
    source = """
    from keras import layers

    def head(x):
        x = layers.BatchNormalization()(x)  # expect: BN020 info @layers.BatchNormalization
        x = layers.GlobalAveragePooling2D()(x)
        return layers.Dense(10)(x)
    """
    assert_findings(source, "BN020")


def test_dense_on_a_channels_first_tensor_does_not_absorb():
    # A Dense on a rank-4 tensor multiplies its last axis, the width here, not the channels.
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization(axis=1)(x)
        return layers.Dense(8)(x)
    """
    assert findings(source, "BN020") == []


def test_alpha_dropout_is_not_transparent():
    # AlphaDropout sets dropped units to a fixed value: it does not commute with a scale.
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Dense(64)(x))
        x = layers.AlphaDropout(0.1)(x)
        return layers.Dense(10)(x)
    """
    assert findings(source, "BN020") == []


def test_helper_traced_with_relu_and_with_sigmoid_is_not_reported():
    # The fix would change the layer in both uses; in the sigmoid one gamma carries meaning.
    source = """
    import keras
    from keras import layers

    def conv_bn(x, activation):
        x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation(activation)(x)
        return layers.Conv2D(16, 3, padding="same")(x)

    inputs = keras.Input(shape=(32, 32, 3))
    x = conv_bn(inputs, "relu")
    x = conv_bn(x, "sigmoid")
    model = keras.Model(inputs, x)
    """
    assert findings(source, "BN020") == []
    assert len(findings(source.replace('"sigmoid"', '"relu"'), "BN020")) == 1


# ------------------------------------------------------------ the real CLI

ABSORBABLE = """\
from keras import layers


def block(x):
    x = layers.Conv2D(64, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(64, 3)(x)
"""


def test_off_by_default_and_opt_in_through_the_cli(tmp_path):
    write(tmp_path / "block.py", ABSORBABLE)
    default = bnlint("block.py", "--no-cache", cwd=tmp_path)
    assert default.returncode == 0 and "BN020" not in default.stdout
    for option in ("--select", "--extend-select"):
        run = bnlint("block.py", "--no-cache", option, "BN020", "--output-format", "json", cwd=tmp_path)
        [finding] = json.loads(run.stdout)
        assert (finding["code"], finding["line"], finding["severity"]) == ("BN020", 6, "info"), option
        assert finding["fix"]["applicability"] == "unsafe"
        assert run.returncode == 0  # info does not fail the run


def test_fix_needs_unsafe_fixes(tmp_path):
    path = write(tmp_path / "block.py", ABSORBABLE)
    safe = bnlint("block.py", "--no-cache", "--select", "BN020", "--fix", cwd=tmp_path)
    assert path.read_text() == ABSORBABLE
    assert "BN020" in safe.stdout
    unsafe = bnlint("block.py", "--no-cache", "--select", "BN020", "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    assert path.read_text() == ABSORBABLE.replace("BatchNormalization()", "BatchNormalization(scale=False)")
    again = bnlint("block.py", "--no-cache", "--select", "BN020", cwd=tmp_path)
    assert "BN020" not in again.stdout


def test_output_in_another_configuration_keeps_gamma():
    # ``include_top`` defaults to True, but a caller may pass False: the BN's ReLU output is then
    # the model output (a feature extractor), and gamma carries meaning there.
    source = """
    import keras
    from keras import layers

    def backbone(include_top=True):
        inputs = keras.Input(shape=(32, 32, 3))
        x = layers.Conv2D(16, 3, use_bias=False)(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        if include_top:
            x = layers.GlobalAveragePooling2D()(x)
            x = layers.Dense(10)(x)
        return keras.Model(inputs, x)
    """
    assert findings(source, "BN020") == []
    assert len(findings(source.replace("        if include_top:\n", "        if True:\n"), "BN020")) == 1


def test_fix_stays_unsafe_and_names_the_checkpoint_where_weights_load():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.BatchNormalization()(layers.Conv2D(16, 3)(inputs))
    model = keras.Model(inputs, layers.Conv2D(16, 3)(layers.ReLU()(x)))
    model.load_weights("checkpoint.weights.h5")
    """
    [diagnostic] = lint(source, "BN020")
    assert "existing checkpoints no longer load" in diagnostic.message
    assert diagnostic.fix.applicability.value == "unsafe"
