"""BN002 redundant-scale: an explicit scale op after BN repeats its gamma (warning, safe fix)."""
from __future__ import annotations

from lintutil import assert_findings, findings, lint

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


def test_gamma_the_next_conv_absorbs_is_not_bn002():
    # Conv -> BN -> ReLU -> Conv: the next conv could absorb gamma, but nothing repeats it.
    # That is BN020's question (off by default), not a redundant scale.
    source = """
    from keras import layers

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        x = layers.ReLU()(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert [d.code for d in lint(source, "BN002", "BN020")] == ["BN020"]


def test_scale_layer_before_a_conv_is_bn002_alone():
    source = """
    from keras import layers

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.gamma = self.add_weight(shape=(input_shape[-1],))

        def call(self, inputs):
            return inputs * self.gamma

    def block(x):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))  # expect: BN002 warning @layers.BatchNormalization
        x = Scale()(x)
        return layers.Conv2D(8, 3)(x)
    """
    assert_findings(source, "BN002", "BN020")
