"""BN004 unet-encoder-missing-bn: encoder stages reused by pooling and a decoder skip."""
from __future__ import annotations

import pytest

from lintutil import assert_findings, findings, fixture, lint


@pytest.mark.parametrize("name", [
    "unet_plain.py",
    "unet_partial_bn.py",
    "unet_skip_before_bn.py",
    "unet_strided_pix2pix.py",
    "unet_normalized.py",
    "inception_block.py",
])
def test_fixture_models(name):
    assert_findings(fixture(name), "BN004")


def test_unnormalized_unet_is_info_and_names_group_normalization():
    diagnostics = lint(fixture("unet_plain.py"), "BN004")
    assert [d.severity.label for d in diagnostics] == ["info"] * 3
    for diagnostic in diagnostics:
        assert diagnostic.name == "unet-encoder-missing-bn"
        assert "no normalization" in diagnostic.message
        assert "GroupNormalization" in diagnostic.message
        assert diagnostic.fix.applicability.value == "unsafe"
        assert diagnostic.fix.edits[0].kind == "insert-layer-after"


def test_info_does_not_fail_the_default_gate():
    from bnlint.diagnostics import Severity

    assert all(d.severity < Severity.WARNING for d in lint(fixture("unet_plain.py"), "BN004"))


def test_partially_normalized_unet_is_warning():
    [diagnostic] = lint(fixture("unet_partial_bn.py"), "BN004")
    assert diagnostic.severity.label == "warning"
    assert "unlike other stages" in diagnostic.message
    assert "GroupNormalization" not in diagnostic.message


def test_skip_before_bn_is_reported_at_the_skip_argument():
    [diagnostic] = lint(fixture("unet_skip_before_bn.py"), "BN004")
    line = fixture("unet_skip_before_bn.py").splitlines()[diagnostic.line - 1]
    assert line.strip().startswith("merge2 = concatenate([up2, conv2]")
    assert line[diagnostic.column - 1:diagnostic.end_column - 1] == "conv2"
    assert diagnostic.end_line == diagnostic.line
    assert diagnostic.severity.label == "warning"
    assert "before its BatchNormalization" in diagnostic.message
    assert diagnostic.fix.edits[0].kind == "retap-argument"


def test_the_skip_column_in_a_snippet():
    source = """
    import keras
    from keras import layers

    def unet(x):
        c1 = layers.Conv2D(16, 3, padding="same")(x)
        n1 = layers.BatchNormalization()(c1)
        p1 = layers.MaxPooling2D()(layers.ReLU()(n1))
        c2 = layers.Conv2D(32, 3, padding="same")(p1)
        n2 = layers.BatchNormalization()(c2)
        p2 = layers.MaxPooling2D()(layers.ReLU()(n2))
        b = layers.Conv2D(64, 3, padding="same", activation="relu")(p2)
        u2 = layers.Concatenate(axis=-1)([layers.UpSampling2D()(b), c2])  # expect: BN004 warning @c2]
        u1 = layers.Concatenate(axis=-1)([layers.UpSampling2D()(u2), layers.ReLU()(n1)])
        return u1
    """
    assert_findings(source, "BN004")


def test_inception_concatenate_is_not_a_unet():
    assert findings(fixture("inception_block.py"), "BN004") == []


def test_one_finding_per_stage_even_when_reached_twice():
    source = """
    import keras
    from keras import layers

    def build(inputs):
        c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)  # expect: BN004 info @layers.Conv2D
        p1 = layers.MaxPooling2D()(c1)
        c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
        u1 = layers.UpSampling2D()(c2)
        m1 = layers.concatenate([u1, c1])
        m2 = layers.add([layers.UpSampling2D()(c2), c1])
        return layers.concatenate([m1, m2])
    """
    assert_findings(source, "BN004")


def test_add_merge_linknet_style():
    source = """
    import keras
    from keras import layers

    def build(inputs):
        e1 = layers.Conv2D(32, 3, padding="same")(inputs)
        e1 = layers.BatchNormalization()(e1)
        e1 = layers.ReLU()(e1)
        p1 = layers.MaxPooling2D()(e1)
        e2 = layers.Conv2D(32, 3, padding="same")(p1)
        e2 = layers.ReLU()(e2)  # a stage without BN
        p2 = layers.MaxPooling2D()(e2)
        d2 = layers.Conv2DTranspose(32, 3, strides=2, padding="same")(p2)
        d2 = layers.Add()([d2, e2])
        d1 = layers.Conv2DTranspose(32, 3, strides=2, padding="same")(d2)
        return layers.Add()([d1, e1])
    """
    assert findings(source, "BN004") == [("BN004", 10, 10, "warning")]


def test_tf_concat_and_cropped_skip():
    source = """
    import tensorflow as tf

    def build(inputs):
        # The only encoder stage: the bottleneck's BN does not make the encoder normalized.
        c1 = tf.keras.layers.Conv2D(64, 3, activation="relu")(inputs)  # expect: BN004 info @tf.keras.layers.Conv2D
        p1 = tf.keras.layers.MaxPooling2D()(c1)
        c2 = tf.keras.layers.Conv2D(128, 3)(p1)
        c2 = tf.keras.layers.BatchNormalization()(c2)
        c2 = tf.keras.layers.ReLU()(c2)
        up = tf.keras.layers.UpSampling2D()(c2)
        up = tf.keras.layers.Conv2D(64, 2, activation="relu")(up)
        crop = tf.keras.layers.Cropping2D(((4, 4), (4, 4)))(c1)
        return tf.concat([up, crop], axis=-1)
    """
    assert_findings(source, "BN004")


def test_loop_built_unet_without_bn_reports_the_loop_conv_once():
    source = """
    import keras
    from keras import layers

    def build():
        inputs = keras.Input(shape=(64, 64, 1))
        x = inputs
        skips = []
        for filters in [16, 32, 64]:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)  # expect: BN004 info @layers.Conv2D
            skips.append(x)
            x = layers.MaxPooling2D()(x)
        for filters, skip in zip([64, 32, 16], skips[::-1]):
            x = layers.UpSampling2D()(x)
            x = layers.concatenate([x, skip])
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        return keras.Model(inputs, x)
    """
    assert_findings(source, "BN004")


LOOP_UNET_SKIP_LIST = """
import keras
from keras import layers

def build():
    inputs = keras.Input(shape=(64, 64, 1))
    x = inputs
    skips = []
    for filters in [16, 32, 64]:
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)  # expect: BN004 info @layers.Conv2D
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    {decoder}
        x = layers.UpSampling2D()(x)
        x = layers.concatenate([x, {skip}])
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return keras.Model(inputs, x)
"""


@pytest.mark.parametrize(("decoder", "skip"), [
    ("for filters in [64, 32, 16]:", "skips.pop()"),
    ("for filters, skip in zip([64, 32, 16], reversed(skips)):", "skip"),
])
def test_loop_built_unet_with_pop_or_reversed(decoder, skip):
    assert_findings(LOOP_UNET_SKIP_LIST.replace("{decoder}", decoder).replace("{skip}", skip), "BN004")


def test_subclassed_unet():
    source = """
    import keras
    from keras import layers


    class TinyUNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.enc1 = layers.Conv2D(16, 3, padding="same", activation="relu")
            self.bn1 = layers.BatchNormalization()
            self.enc2 = layers.Conv2D(32, 3, padding="same", activation="relu")  # expect: BN004 warning @layers.Conv2D
            self.pool = layers.MaxPooling2D()
            self.mid = layers.Conv2D(64, 3, padding="same", activation="relu")
            self.up = layers.UpSampling2D()
            self.merge = layers.Concatenate()
            self.head = layers.Conv2D(1, 1)

        def call(self, x):
            s1 = self.bn1(self.enc1(x))
            s2 = self.enc2(self.pool(s1))
            m = self.mid(self.pool(s2))
            d2 = self.merge([self.up(m), s2])
            d1 = self.merge([self.up(d2), s1])
            return self.head(d1)
    """
    assert_findings(source, "BN004")


def test_plain_encoder_decoder_without_skips_is_not_a_unet():
    source = """
    import keras
    from keras import layers

    def autoencoder(inputs):
        x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
        x = layers.MaxPooling2D()(x)
        x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Conv2DTranspose(8, 3, strides=2, padding="same")(x)
        x = layers.Conv2DTranspose(16, 3, strides=2, padding="same")(x)
        return layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    """
    assert findings(source, "BN004") == []


def test_merge_of_two_upsampled_tensors_is_not_a_skip():
    source = """
    from keras import layers

    def fpn_head(p4, p5):
        a = layers.UpSampling2D()(p5)
        b = layers.UpSampling2D()(p4)
        return layers.concatenate([a, b])
    """
    assert findings(source, "BN004") == []


def test_subclassed_unet_skip_before_bn_column():
    source = """
    import keras
    from keras import layers


    class UNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.c1 = layers.Conv2D(16, 3, padding="same")
            self.b1 = layers.BatchNormalization()
            self.c2 = layers.Conv2D(32, 3, padding="same")
            self.b2 = layers.BatchNormalization()
            self.pool = layers.MaxPooling2D()
            self.up = layers.UpSampling2D()
            self.mid = layers.Conv2D(64, 3, padding="same")

        def call(self, x):
            c1 = self.c1(x)
            p1 = self.pool(keras.activations.relu(self.b1(c1)))
            c2 = self.c2(p1)
            p2 = self.pool(keras.activations.relu(self.b2(c2)))
            m = self.mid(p2)
            d2 = layers.concatenate([self.up(m), c2])  # expect: BN004 warning @c2]
            d1 = layers.concatenate([self.up(d2), c1])  # expect: BN004 warning @c1]
            return d1
    """
    assert_findings(source, "BN004")


def test_helper_returning_pooled_and_skip():
    source = """
    import keras
    from keras import layers

    def encoder_stage(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        skip = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)  # expect: BN004 info @layers.Conv2D
        return layers.MaxPooling2D()(skip), skip

    def build():
        inputs = keras.Input(shape=(128, 128, 3))
        x = inputs
        skips = []
        for filters in [32, 64]:
            x, skip = encoder_stage(x, filters)
            skips.append(skip)
        x = layers.Conv2D(256, 3, padding="same", activation="relu")(x)
        for filters, skip in zip([64, 32], reversed(skips)):
            x = layers.Conv2DTranspose(filters, 2, strides=2)(x)
            x = layers.concatenate([skip, x])
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        return keras.Model(inputs, x)
    """
    assert_findings(source, "BN004")


def test_a_stage_normalized_under_an_open_flag_is_not_reported():
    # ``use_batch_norm`` defaults to True, but a caller may pass False: both ways are traced,
    # and the stage is normalized in one of them. That is a choice, not a missing BN.
    source = """
    from keras import layers

    def block(x, filters, use_batch_norm=True):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        if use_batch_norm:
            x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    def unet(inputs, use_batch_norm=True):
        c1 = block(inputs, 16, use_batch_norm)
        c2 = block(layers.MaxPooling2D()(c1), 32, use_batch_norm)
        b = block(layers.MaxPooling2D()(c2), 64, use_batch_norm)
        u2 = layers.concatenate([layers.UpSampling2D()(b), c2])
        u1 = layers.concatenate([layers.UpSampling2D()(u2), c1])
        return layers.Conv2D(1, 1, activation="sigmoid")(u1)
    """
    assert findings(source, "BN004") == []
