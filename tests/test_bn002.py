"""BN002 redundant-scale: shape 1 (explicit scale op, warning) and shape 2 (absorbed, info)."""
from __future__ import annotations

import pytest

from lintutil import assert_findings, findings, lint

# --------------------------------------------------------- shape 2, by style

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, 3, padding="same", use_bias=False),
    layers.BatchNormalization(),  # expect: BN002 info @layers.BatchNormalization
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
model.add(layers.BatchNormalization())  # expect: BN002 info @layers.BatchNormalization
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
x = layers.BatchNormalization()(x)  # expect: BN002 info @layers.BatchNormalization
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
x = layers.Conv2D(8, 3)(layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3)(inputs))))  # expect: BN002 info @layers.BatchNormalization
y = layers.Activation("sigmoid")(layers.BatchNormalization()(layers.Conv2D(8, 3)(x)))
model = keras.Model(inputs, layers.Conv2D(1, 1)(y))
"""

HELPER_FUNCTION = """
import keras
from keras import layers


def conv_bn_act(x, filters, activation, scale=None):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    if scale is None:
        x = layers.BatchNormalization()(x)  # expect: BN002 info @layers.BatchNormalization
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
    x = layers.BatchNormalization()(x)  # expect: BN002 info @layers.BatchNormalization
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
        self.bn1 = layers.BatchNormalization()  # expect: BN002 info @layers.BatchNormalization
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
        self.reduce_bn = tf.keras.layers.BatchNormalization()  # expect: BN002 info @tf.keras.layers.BatchNormalization
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
    assert_findings(source, "BN002")


def test_absorbed_scale_message_and_fix():
    [diagnostic] = lint(FUNCTIONAL, "BN002")
    assert diagnostic.name == "redundant-scale"
    assert "absorbed by the next linear layer (Conv2D)" in diagnostic.message
    assert [edit.describe() for edit in diagnostic.fix.edits] == [
        {"kind": "set-keyword", "keyword": "scale", "value": "False"}]
    assert diagnostic.fix.applicability.value == "safe"


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
    assert findings(source, "BN002") == [("BN002", 5, 9, "info")]


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
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 info @layers.BatchNormalization
        x = layers.ReLU()(x)
        return {linear}(x)
    """
    assert_findings(source, "BN002")


def test_flatten_then_dense_absorbs():
    source = """
    from keras import layers

    def head(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 info @layers.BatchNormalization
        x = layers.ReLU()(x)
        x = layers.Flatten()(x)
        return layers.Dense(10)(x)
    """
    assert_findings(source, "BN002")


def test_channel_axis_concatenation_is_transparent():
    source = """
    from keras import layers

    def block(x, y):
        a = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 info @layers.BatchNormalization
        a = layers.ReLU()(a)
        merged = layers.concatenate([a, layers.Conv2D(8, 3)(y)], axis=-1)
        return layers.Conv2D(16, 1)(merged)
    """
    assert_findings(source, "BN002")


def test_concatenation_on_another_axis_keeps_gamma():
    source = """
    from keras import layers

    def block(x, y):
        a = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        a = layers.ReLU()(a)
        merged = layers.Concatenate(axis=1)([a, layers.Conv2D(8, 3)(y)])
        return layers.Conv2D(16, 1)(merged)
    """
    assert findings(source, "BN002") == []


# ------------------------------------------------------ shape 2, negatives

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
    assert findings(source, "BN002") == []


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
    assert findings(source, "BN002") == []


def test_residual_add_keeps_gamma():
    source = """
    import keras
    from keras import layers

    def residual_block(x, filters):
        shortcut = x
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)  # expect: BN002 info @layers.BatchNormalization
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
    assert_findings(source, "BN002")


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
    assert findings(source, "BN002") == []


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
    assert findings(source, "BN002") == []


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
    assert findings(source, "BN002") == []


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
    assert findings(source, "BN002") == []


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
    assert findings(source, "BN002") == []


def test_wrong_axis_is_bn001_only():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
        x = layers.ReLU()(x)
        return layers.Conv2D(8, 3, data_format="channels_first")(x)
    """
    assert_findings(source, "BN001", "BN002")


# ---------------------------------------------------------------- shape 1

CAFFE_PORT = """
import keras
from keras import layers


class Scale(layers.Layer):
    \"\"\"Learned per-channel affine map (Caffe's Scale layer).\"\"\"

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs):
        return inputs * self.gamma + self.beta


class ScaleOnly(layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return self.gamma * x


def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)  # expect: BN002 warning @layers.BatchNormalization
    x = Scale()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)  # expect: BN002 warning @layers.BatchNormalization
    x = ScaleOnly()(x)
    return layers.Activation("sigmoid")(x)


def build():
    inputs = keras.Input(shape=(224, 224, 3))
    return keras.Model(inputs, conv_block(inputs, 64))
"""


def test_caffe_port_scale_layer():
    assert_findings(CAFFE_PORT, "BN002")
    first, second = lint(CAFFE_PORT, "BN002")
    assert "scale and shift" in first.message and "center=False" in first.message
    assert [e.describe()["keyword"] for e in first.fix.edits] == ["scale", "center"]
    assert "center=False" not in second.message
    assert [e.describe()["keyword"] for e in second.fix.edits] == ["scale"]


def test_caffe_port_in_sequential():
    source = """
    import keras
    from keras import layers


    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.w


    model = keras.Sequential([
        layers.Conv2D(64, 7, strides=2, input_shape=(224, 224, 3)),
        layers.BatchNormalization(),  # expect: BN002 warning @layers.BatchNormalization
        Scale(),
        layers.Activation("relu"),
        layers.GlobalAveragePooling2D(),
    ])
    """
    assert_findings(source, "BN002")


def test_rescaling_after_bn():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = layers.Rescaling(2.0)(x)
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = layers.Rescaling(scale=0.5, offset=1.0)(x)
        return layers.Activation("tanh")(x)
    """
    assert_findings(source, "BN002")
    first, second = lint(source, "BN002")
    assert "center=False" not in first.message
    assert "center=False" in second.message


def test_multiplication_by_constant_or_weight():
    source = """
    from keras import layers

    def block(x):
        y = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        y = y * 0.5
        return layers.Activation("sigmoid")(y)
    """
    assert_findings(source, "BN002")


def test_explicit_scale_already_disabled():
    source = """
    from keras import layers

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.gamma = self.add_weight(shape=(input_shape[-1],))
            self.beta = self.add_weight(shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.gamma + self.beta

    def block(x):
        x = layers.BatchNormalization(scale=False, center=False)(layers.Conv2D(8, 3)(x))
        x = Scale()(x)
        return layers.Activation("relu")(x)
    """
    assert findings(source, "BN002") == []


def test_scale_false_but_center_on_before_an_affine_scale():
    source = """
    from keras import layers

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.gamma = self.add_weight(shape=(input_shape[-1],))
            self.beta = self.add_weight(shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.gamma + self.beta

    def block(x):
        x = layers.BatchNormalization(scale=False)(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = Scale()(x)
        return layers.Activation("relu")(x)
    """
    assert_findings(source, "BN002")
    [diagnostic] = lint(source, "BN002")
    assert [e.describe()["keyword"] for e in diagnostic.fix.edits] == ["center"]


def test_non_affine_custom_layer_is_not_a_scale():
    source = """
    from keras import layers

    class Squash(layers.Layer):
        def call(self, inputs):
            return inputs * inputs

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = Squash()(x)
        return layers.Activation("tanh")(x)
    """
    assert findings(source, "BN002") == []


def test_lambda_that_multiplies_is_a_scale():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = layers.Lambda(lambda t: t * 1.5)(x)
        return layers.Activation("tanh")(x)
    """
    assert_findings(source, "BN002")


def test_lambda_that_multiplies_and_shifts():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = layers.Lambda(lambda t: 2.0 * t + 1.0)(x)
        return layers.Activation("relu")(x)
    """
    assert_findings(source, "BN002")
    [diagnostic] = lint(source, "BN002")
    assert "center=False" in diagnostic.message


def test_lambda_that_does_not_scale_is_not_a_scale_op():
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.Lambda(lambda t: t * t)(x)
        return layers.Activation("tanh")(x)
    """
    assert findings(source, "BN002") == []


def test_imported_center_flag_is_unknown():
    # center=get_center() gives no finding (unknown); an imported CENTER must behave the same.
    source = """
    from keras import layers
    from config import CENTER

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.gamma = self.add_weight(shape=(input_shape[-1],))
            self.beta = self.add_weight(shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.gamma + self.beta

    def block(x):
        x = layers.BatchNormalization(scale=False, center=CENTER)(layers.Conv2D(8, 3)(x))
        x = Scale()(x)
        return layers.Activation("relu")(x)
    """
    assert findings(source, "BN002") == []


@pytest.mark.parametrize("function", ["tf.nn.relu", "keras.activations.relu", "keras.ops.relu"])
def test_activation_layer_given_a_function(function):
    source = f"""
    import keras
    import tensorflow as tf
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 info @layers.BatchNormalization
        x = layers.Activation({function})(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert_findings(source, "BN002")


# Regression cases from real model libraries, in our own words.

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
        "BN002",
    )


def test_helper_traced_twice_with_homogeneous_activations_is_reported_once():
    assert_findings(
        """
        import keras
        from keras import layers

        def expand(x):
            x = layers.Conv2D(32, 1, use_bias=False)(x)
            x = layers.BatchNormalization()(x)  # expect: BN002 info @layers.BatchNormalization
            x = layers.ReLU()(x)
            return layers.DepthwiseConv2D(3)(x)

        def build():
            inputs = keras.Input(shape=(32, 32, 3))
            return keras.Model(inputs, expand(expand(inputs)))
        """,
        "BN002",
    )


def test_names_imported_in_both_branches_of_an_undecided_if_keep_their_meaning():
    # ``if TF: from tensorflow.keras.layers import ...`` / ``else: from keras.layers import ...``
    assert_findings(
        """
        from mypackage import USE_TF

        if USE_TF:
            from tensorflow.keras.layers import BatchNormalization, Conv2D, Dropout
        else:
            from keras.layers import BatchNormalization, Conv2D, Dropout

        def block(x):
            x = Dropout(0.4)(x)  # expect: BN003 warning @Dropout
            x = Conv2D(16, 3, use_bias=False)(x)
            return BatchNormalization()(x)
        """,
        "BN003",
    )
