"""Each fix in each way of writing a model: the result is exactly the file's own style."""
from __future__ import annotations

import textwrap

from fixutil import codes, fix, fixed_text


def expect(before: str, after: str, unsafe: bool = True) -> None:
    result = fixed_text(before, unsafe)
    assert result == textwrap.dedent(after)
    assert fixed_text(result, unsafe) == result  # idempotent


# ---------------------------------------------------------------- BN001 / keywords

def test_set_keyword_on_empty_call():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization()(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization(axis=1)(x)
            return x
        """)


def test_replace_keyword_keeps_spacing_and_other_arguments():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3)(inputs)
            x = layers.BatchNormalization(momentum = 0.9, axis = 1, epsilon = 1e-3)(x)
            x = layers.Activation("tanh")(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3)(inputs)
            x = layers.BatchNormalization(momentum = 0.9, axis = -1, epsilon = 1e-3)(x)
            x = layers.Activation("tanh")(x)
            return x
        """)


def test_new_keyword_copies_the_calls_keyword_spacing():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format = "channels_first")(inputs)
            x = layers.BatchNormalization(momentum = 0.9)(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format = "channels_first")(inputs)
            x = layers.BatchNormalization(momentum = 0.9, axis = 1)(x)
            return x
        """)


def test_positional_axis_is_replaced_in_place():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3)(inputs)
            x = layers.BatchNormalization(1, 0.9)(x)
            x = layers.Activation("tanh")(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3)(inputs)
            x = layers.BatchNormalization(-1, 0.9)(x)
            x = layers.Activation("tanh")(x)
            return x
        """)


def test_multiline_call_with_trailing_comma_and_comments():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization(
                momentum=0.9,  # slow statistics
                epsilon=1e-3,  # Keras default
            )(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization(
                momentum=0.9,  # slow statistics
                epsilon=1e-3,  # Keras default
                axis=1,
            )(x)
            return x
        """)


def test_multiline_call_without_trailing_comma():
    expect("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization(
                momentum=0.9,
                epsilon=1e-3  # Keras default
            )(x)
            return x
        """, """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization(
                momentum=0.9,
                epsilon=1e-3,  # Keras default
                axis=1
            )(x)
            return x
        """)


def test_alias_and_tf_keras_spellings_are_kept():
    expect("""
        import tensorflow as tf
        from tensorflow.keras.layers import BatchNormalization as BN
        def build(inputs):
            x = tf.keras.layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = BN()(x)
            return x
        """, """
        import tensorflow as tf
        from tensorflow.keras.layers import BatchNormalization as BN
        def build(inputs):
            x = tf.keras.layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = BN(axis=1)(x)
            return x
        """)


def test_safe_fix_applies_without_unsafe_flag_but_unsafe_does_not():
    source = """
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(8, 3, data_format="channels_first"),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Conv2D(8, 3, data_format="channels_first"),
            layers.BatchNormalization(axis=1),
            layers.Activation("tanh"),
        ])
        """
    result = fixed_text(source, unsafe=False)
    assert "layers.BatchNormalization(axis=1),\n    layers.Dropout(0.5)," in result
    assert codes(result) == ["BN003"]


def test_weights_loading_file_makes_axis_fix_unsafe():
    source = """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization()(x)
            return x
        model = build(None)
        model.load_weights("ckpt.h5")
        """
    assert not fix(source, unsafe=False).changed
    assert "BatchNormalization(axis=1)" in fixed_text(source, unsafe=True)


# ---------------------------------------------------------------- BN004 insert / retap

UNET = """
    {imports}
    def unet(inputs):
        c1 = {L}Conv2D(16, 3, padding="same")(inputs)
        c1 = {L}BatchNormalization()(c1)
        c1 = {L}Activation("elu")(c1)
        p1 = {L}MaxPooling2D()(c1)
        c2 = {L}Conv2D(32, 3, padding="same", activation="elu")(p1)  # stage 2
        p2 = {L}MaxPooling2D()(c2)
        b = {L}Conv2D(64, 3, padding="same", activation="relu")(p2)
        u2 = {L}UpSampling2D()(b)
        m2 = {L}concatenate([u2, c2])
        u1 = {L}UpSampling2D()(m2)
        m1 = {L}concatenate([u1, c1])
        return {L}Conv2D(1, 1, activation="sigmoid")(m1)
    """


def test_insert_bn_after_functional_conv_splits_its_activation():
    source = UNET.format(imports="from keras import layers", L="layers.")
    result = fixed_text(source)
    assert ('    c2 = layers.Conv2D(32, 3, padding="same")(p1)  # stage 2\n'
            "    c2 = layers.BatchNormalization()(c2)\n"
            '    c2 = layers.Activation("elu")(c2)\n'
            "    p2 = layers.MaxPooling2D()(c2)\n") in result
    assert codes(result) == []


def test_insert_uses_the_files_alias_for_the_layers_module():
    source = UNET.format(imports="import tensorflow.keras.layers as KL", L="KL.")
    result = fixed_text(source)
    assert "    c2 = KL.BatchNormalization()(c2)\n" in result


def test_insert_adds_the_name_to_the_files_own_import_of_layer_classes():
    source = UNET.replace("{L}BatchNormalization()(c1)", "{L}Dropout(0.1)(c1)").format(
        imports="from keras.layers import Activation, Conv2D, Dropout, MaxPooling2D, UpSampling2D, concatenate",
        L="")
    result = fixed_text(source)
    # The names were sorted: the new one takes its place among them.
    assert result.startswith("\nfrom keras.layers import Activation, BatchNormalization, Conv2D, Dropout, "
                             "MaxPooling2D, UpSampling2D, concatenate\ndef unet")
    assert "    c2 = BatchNormalization()(c2)\n" in result
    assert fixed_text(result) == result


def test_insert_adds_an_import_statement_when_no_import_of_the_layers_module_exists():
    # Keras 2 submodule imports: no ``from keras.layers import ...`` to extend, so a new line follows them.
    source = UNET.replace("{L}BatchNormalization()(c1)", "{L}Dropout(0.1)(c1)").format(
        imports="from keras.layers.convolutional import Conv2D, MaxPooling2D, UpSampling2D\n    "
                "from keras.layers.core import Activation, Dropout\n    from keras.layers.merge import concatenate",
        L="")
    result = fixed_text(source)
    assert "from keras.layers.merge import concatenate\nfrom keras.layers import BatchNormalization\n" in result
    assert "    c2 = BatchNormalization()(c2)\n" in result
    assert fixed_text(result) == result


def test_insert_after_conv_in_sequential_list_and_model_add():
    # A U-Net cannot be Sequential, so the insert edit is driven directly here.
    from bnlint.diagnostics import Applicability, Edit, Fix
    from bnlint.fixer.apply import ApplyChanges
    from bnlint.fixer.plan import plan_fix
    from bnlint.fixer.source import Source
    import libcst as cst
    from bnlint.frontend import build_graphs

    for source, expected in [
        ("import keras\nfrom keras import layers\nmodel = keras.Sequential([\n    layers.Conv2D(8, 3, activation=\"relu\"),  # c\n    layers.Flatten(),\n])\n",
         "import keras\nfrom keras import layers\nmodel = keras.Sequential([\n    layers.Conv2D(8, 3),  # c\n    layers.BatchNormalization(),\n    layers.Activation(\"relu\"),\n    layers.Flatten(),\n])\n"),
        ("import keras\nfrom keras import layers\nmodel = keras.Sequential()\nmodel.add(layers.Conv2D(8, 3))  # c\nmodel.add(layers.Flatten())\n",
         "import keras\nfrom keras import layers\nmodel = keras.Sequential()\nmodel.add(layers.Conv2D(8, 3))  # c\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Flatten())\n"),
    ]:
        module = cst.parse_module(source)
        graphs = build_graphs(module)
        conv = next(n for g in graphs for n in g.nodes if n.op == "Conv2D" and not n.implicit)
        fix_ = Fix("insert", Applicability.UNSAFE, (Edit("insert-layer-after", conv.origin, value="BatchNormalization()"),))
        changes = plan_fix(Source(module, graphs), fix_)
        assert module.visit(ApplyChanges(changes, module)).code == expected


def test_insert_in_subclassed_model_adds_attribute_and_call():
    source = """
        import keras
        from keras import layers
        class UNet(keras.Model):
            def __init__(self):
                super().__init__()
                self.c1 = layers.Conv2D(16, 3, padding="same")
                self.bn1 = layers.BatchNormalization()
                self.p1 = layers.MaxPooling2D()
                self.c2 = layers.Conv2D(32, 3, padding="same", activation="relu")
                self.p2 = layers.MaxPooling2D()
                self.b = layers.Conv2D(64, 3, padding="same")
                self.u2 = layers.UpSampling2D()
                self.u1 = layers.UpSampling2D()
                self.out = layers.Conv2D(1, 1, activation="sigmoid")

            def call(self, inputs):
                c1 = self.bn1(self.c1(inputs))
                c2 = self.c2(self.p1(c1))
                b = self.b(self.p2(c2))
                m2 = layers.concatenate([self.u2(b), c2])
                m1 = layers.concatenate([self.u1(m2), c1])
                return self.out(m1)
        """
    outcome = fix(source)
    if outcome.changed:
        text = outcome.fixed.decode()
        assert "self.c2_bn = layers.BatchNormalization(" in text
        assert "self.c2_act = layers.Activation(\"relu\")" in text
        assert codes(text) == []
    else:  # the conv output is not bound to a name of its own: refused, and said so
        assert outcome.remaining and all("fix_refused" in d.extra for d in outcome.remaining if d.code == "BN004")


def test_insert_in_subclassed_model_with_named_outputs():
    source = """
        import keras
        from keras import layers
        class UNet(keras.Model):
            def __init__(self):
                super().__init__()
                self.c1 = layers.Conv2D(16, 3, padding="same")
                self.bn1 = layers.BatchNormalization()
                self.p1 = layers.MaxPooling2D()
                self.c2 = layers.Conv2D(32, 3, padding="same", activation="relu")
                self.p2 = layers.MaxPooling2D()
                self.b = layers.Conv2D(64, 3, padding="same")
                self.u2 = layers.UpSampling2D()
                self.u1 = layers.UpSampling2D()

            def call(self, inputs):
                c1 = self.c1(inputs)
                c1 = self.bn1(c1)
                p1 = self.p1(c1)
                c2 = self.c2(p1)
                p2 = self.p2(c2)
                b = self.b(p2)
                m2 = layers.concatenate([self.u2(b), c2])
                return layers.concatenate([self.u1(m2), c1])
        """
    text = fixed_text(source)
    assert ('        self.c2 = layers.Conv2D(32, 3, padding="same")\n'
            "        self.c2_bn = layers.BatchNormalization()\n"
            '        self.c2_act = layers.Activation("relu")\n') in text
    assert ("        c2 = self.c2(p1)\n        c2 = self.c2_bn(c2)\n        c2 = self.c2_act(c2)\n") in text
    assert codes(text) == []


def test_retap_uses_the_bn_name_when_it_is_not_rebound():
    source = """
        from keras import layers
        def unet(inputs):
            c1 = layers.Conv2D(16, 3, padding="same")(inputs)
            n1 = layers.BatchNormalization()(c1)
            p1 = layers.MaxPooling2D()(n1)
            b = layers.Conv2D(32, 3, padding="same")(p1)
            b = layers.BatchNormalization()(b)
            u1 = layers.UpSampling2D()(b)
            return layers.concatenate([u1, c1])
        """
    text = fixed_text(source)
    assert "    return layers.concatenate([u1, n1])\n" in text
    assert codes(text) == []


def test_retap_renames_a_rebound_bn_output():
    text = fixed_text(open("examples/unet_strided.py").read())
    assert "    e1_bn = layers.BatchNormalization()(e1)\n    x = layers.Activation(\"elu\")(e1_bn)\n" in text
    assert "    x = layers.concatenate([x, e1_bn])\n" in text
    assert codes(text) == []


# ---------------------------------------------------------------- BN003 move

def test_move_dropout_in_functional_chain_rewires_its_consumer():
    expect("""
        from keras import layers
        def block(x):
            d = layers.Dropout(0.5)(x)
            c = layers.Conv2D(64, 3)(d)
            n = layers.BatchNormalization()(c)
            return layers.Activation("tanh")(n)
        """, """
        from keras import layers
        def block(x):
            c = layers.Conv2D(64, 3)(x)
            n = layers.BatchNormalization()(c)
            n = layers.Dropout(0.5)(n)
            return layers.Activation("tanh")(n)
        """)


def test_move_dropout_in_sequential_list_keeps_comments():
    expect("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(8, 3),
            # regularize
            layers.Dropout(0.5),  # heavy
            layers.Conv2D(8, 3),
            layers.BatchNormalization(),
            layers.Activation("tanh"),
        ])
        """, """
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(8, 3),
            layers.Conv2D(8, 3),
            layers.BatchNormalization(),
            # regularize
            layers.Dropout(0.5),  # heavy
            layers.Activation("tanh"),
        ])
        """)


def test_move_in_model_add_keeps_blank_lines_in_place():
    result = fixed_text(open("examples/bn003_dropout_variance_shift.py").read())
    assert result == open("examples/bn003_dropout_variance_shift_fixed.py").read()


def test_return_site_is_refused_with_a_reason():
    outcome = fix("""
        from keras import layers
        def block(x):
            x = layers.Dropout(0.5)(x)
            x = layers.Conv2D(64, 3, activation="relu")(x)
            return layers.BatchNormalization()(x)
        """)
    assert not outcome.changed
    [finding] = outcome.remaining
    assert finding.code == "BN003" and "not bound to a plain name" in finding.extra["fix_refused"]
