"""BN001 axis-mismatch in every model style, import spelling and data-format source."""
from __future__ import annotations

import pytest

from lintutil import assert_findings, findings, lint

BN = "@layers.BatchNormalization"

# --------------------------------------------------------------------- styles

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, padding="same", data_format="channels_first", input_shape=(3, 64, 64)),
    layers.BatchNormalization(),  # expect: BN001 error @layers.BatchNormalization
    layers.Activation("relu"),
    layers.Conv2D(64, 3, padding="same", data_format="channels_first"),
    layers.BatchNormalization(axis=1),
    layers.Activation("relu"),
    layers.MaxPooling2D(data_format="channels_first"),
    layers.BatchNormalization(axis=-1),  # expect: BN001 error @layers.BatchNormalization
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
"""

MODEL_ADD = """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(64, 64, 3)))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.BatchNormalization(axis=1))  # expect: BN001 error @layers.BatchNormalization
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.BatchNormalization())
model.add(layers.MaxPooling2D())
model.add(layers.Flatten())
model.add(layers.Dense(10))
"""

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(3, 128, 128))
x = layers.Conv2D(16, 3, data_format="channels_first")(inputs)
x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
x = layers.ReLU()(x)
y = layers.Conv2D(16, 3, data_format="channels_first")(x)
y = layers.BatchNormalization(axis=1)(y)
y = layers.ReLU()(y)
y = layers.GlobalAveragePooling2D(data_format="channels_first")(y)
outputs = layers.Dense(2, activation="softmax")(y)
model = keras.Model(inputs, outputs)
"""

NESTED_CALLS = """
import keras
from keras import layers

inputs = keras.Input(shape=(3, 32, 32))
x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(8, 3, data_format="channels_first")(inputs)))  # expect: BN001 error @layers.BatchNormalization
y = layers.Activation("relu")(layers.BatchNormalization(axis=1)(layers.Conv2D(8, 3, data_format="channels_first")(x)))
model = keras.Model(inputs=inputs, outputs=y)
"""

HELPER_FUNCTION = """
import keras
from keras import layers


def conv_bn(x, filters, data_format, bn_axis=-1, momentum=0.99):
    x = layers.Conv2D(filters, 3, padding="same", data_format=data_format)(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=momentum)(x)  # expect: BN001 error @layers.BatchNormalization
    return layers.Activation("relu")(x)


def build():
    inputs = keras.Input(shape=(3, 224, 224))
    x = conv_bn(inputs, 32, "channels_first")
    x = conv_bn(x, 64, "channels_first", 1, 0.9)
    return keras.Model(inputs, x)
"""

HELPER_FUNCTION_OK = """
import keras
from keras import layers


def conv_bn(x, filters, data_format="channels_first", bn_axis=1):
    x = layers.Conv2D(filters, 3, padding="same", data_format=data_format)(x)
    x = layers.BatchNormalization(axis=bn_axis)(x)
    return layers.Activation("relu")(x)


def build():
    inputs = keras.Input(shape=(3, 224, 224))
    x = conv_bn(inputs, 32)
    x = conv_bn(x, 64, data_format="channels_last", bn_axis=-1)
    x = conv_bn(x, 64, bn_axis=3, data_format="channels_last")
    return keras.Model(inputs, x)
"""

FOR_LOOP = """
import keras
from keras import layers

inputs = keras.Input(shape=(3, 96, 96))
x = inputs
for filters in [32, 64, 128]:
    x = layers.Conv2D(filters, 3, padding="same", data_format="channels_first")(x)
    x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(data_format="channels_first")(x)
model = keras.Model(inputs, x)
"""

FOR_LOOP_OK = """
import keras
from keras import layers

inputs = keras.Input(shape=(3, 96, 96))
x = inputs
for filters, fmt, axis in [(32, "channels_first", 1), (64, "channels_first", 1), (128, "channels_last", -1)]:
    x = layers.Conv2D(filters, 3, padding="same", data_format=fmt)(x)
    x = layers.BatchNormalization(axis=axis)(x)
    x = layers.Activation("relu")(x)
model = keras.Model(inputs, x)
"""

SUBCLASS_MODEL = """
import keras
from keras import layers


class Classifier(keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = layers.Conv2D(32, 3, data_format="channels_first")
        self.bn1 = layers.BatchNormalization()  # expect: BN001 error @layers.BatchNormalization
        self.conv2 = layers.Conv2D(64, 3, data_format="channels_first")
        self.bn2 = layers.BatchNormalization(axis=1)
        self.pool = layers.GlobalAveragePooling2D(data_format="channels_first")
        self.head = layers.Dense(num_classes)

    def call(self, inputs, training=False):
        x = self.bn1(self.conv1(inputs), training=training)
        x = keras.activations.relu(x)
        x = self.bn2(self.conv2(x), training=training)
        x = keras.activations.relu(x)
        return self.head(self.pool(x))
"""

SUBCLASS_LAYER = """
import keras
from keras import layers


class ConvBlock(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, 3, padding="same")
        self.norm = layers.BatchNormalization(axis=1)  # expect: BN001 error @layers.BatchNormalization
        self.act = layers.ReLU()

    def call(self, x, training=None):
        return self.act(self.norm(self.conv(x), training=training))
"""


@pytest.mark.parametrize("source", [
    pytest.param(SEQUENTIAL_LIST, id="sequential-list"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(NESTED_CALLS, id="nested-calls"),
    pytest.param(HELPER_FUNCTION, id="helper-function"),
    pytest.param(HELPER_FUNCTION_OK, id="helper-function-ok"),
    pytest.param(FOR_LOOP, id="for-loop"),
    pytest.param(FOR_LOOP_OK, id="for-loop-ok"),
    pytest.param(SUBCLASS_MODEL, id="subclass-model"),
    pytest.param(SUBCLASS_LAYER, id="subclass-layer"),
])
def test_styles(source):
    assert_findings(source, "BN001")


def test_message_names_the_axis_and_the_fix():
    [diagnostic] = lint(FUNCTIONAL, "BN001")
    assert diagnostic.name == "axis-mismatch"
    assert "axis -1 (width)" in diagnostic.message
    assert "channels_first" in diagnostic.message
    assert "the channel axis is 1" in diagnostic.message
    assert diagnostic.fix is not None
    assert diagnostic.fix.applicability.value == "safe"
    assert [edit.describe() for edit in diagnostic.fix.edits] == [
        {"kind": "set-keyword", "keyword": "axis", "value": "1"}]


def test_reverse_mismatch_suggests_last_axis():
    [diagnostic] = lint(MODEL_ADD, "BN001")
    assert "axis 1 (height)" in diagnostic.message
    assert "the channel axis is -1" in diagnostic.message


def test_fix_is_unsafe_when_the_file_loads_weights():
    source = FUNCTIONAL + 'model.load_weights("classifier.weights.h5")\n'
    [diagnostic] = lint(source, "BN001")
    assert diagnostic.fix.applicability.value == "unsafe"
    assert "checkpoints" in diagnostic.message


# ------------------------------------------------------------ import spellings

IMPORTS = {
    "import-keras": ("import keras", "keras.layers.Conv2D", "keras.layers.BatchNormalization"),
    "from-tensorflow-import-keras": ("from tensorflow import keras", "keras.layers.Conv2D",
                                     "keras.layers.BatchNormalization"),
    "tf-keras": ("import tensorflow as tf", "tf.keras.layers.Conv2D", "tf.keras.layers.BatchNormalization"),
    "tensorflow-keras-full": ("import tensorflow", "tensorflow.keras.layers.Conv2D",
                              "tensorflow.keras.layers.BatchNormalization"),
    "from-import-as-BN": ("from tensorflow.keras.layers import BatchNormalization as BN, Conv2D",
                          "Conv2D", "BN"),
    "import-keras-layers-as-KL": ("import keras.layers as KL", "KL.Conv2D", "KL.BatchNormalization"),
    "star-import": ("from keras.layers import *", "Conv2D", "BatchNormalization"),
    "tf-star-import": ("from tensorflow.keras.layers import *", "Conv2D", "BatchNormalization"),
    "keras-layers-module": ("from keras import layers as L", "L.Conv2D", "L.BatchNormalization"),
    "sync-bn": ("from keras import layers", "layers.Conv2D", "layers.SyncBatchNormalization"),
    "tf-experimental-sync-bn": ("import tensorflow as tf", "tf.keras.layers.Conv2D",
                                "tf.keras.layers.experimental.SyncBatchNormalization"),
    "bn-synchronized": ("from keras import layers", "layers.Conv2D",
                        "layers.BatchNormalization(synchronized=True, "),
}


def _import_snippet(import_line: str, conv: str, bn: str, axis: str) -> str:
    call = f"{bn}{axis})" if bn.endswith(", ") else f"{bn}({axis})"
    if bn.endswith(", ") and not axis:
        call = bn[:-2] + ")"
    return (
        f"{import_line}\n"
        "\n"
        "def stem(x):\n"
        f"    x = {conv}(64, 7, strides=2, data_format='channels_first')(x)\n"
        f"    x = {call}(x)\n"
        "    return x\n"
    )


@pytest.mark.parametrize(("import_line", "conv", "bn"), list(IMPORTS.values()), ids=list(IMPORTS))
def test_import_spellings_report(import_line, conv, bn):
    source = _import_snippet(import_line, conv, bn, "")
    assert findings(source, "BN001") == [("BN001", 5, 9, "error")]


@pytest.mark.parametrize(("import_line", "conv", "bn"), list(IMPORTS.values()), ids=list(IMPORTS))
def test_import_spellings_correct_axis(import_line, conv, bn):
    source = _import_snippet(import_line, conv, bn, "axis=1")
    assert findings(source, "BN001") == []


def test_local_subclass_of_batchnormalization_is_a_bn():
    source = """
    from keras import layers

    class FrozenBN(layers.BatchNormalization):
        pass

    def stem(x):
        x = layers.Conv2D(64, 7, data_format="channels_first")(x)
        return FrozenBN()(x)  # expect: BN001 error @FrozenBN
    """
    assert_findings(source, "BN001")


# ----------------------------------------------------------------- data format

GLOBAL_FORMAT = """
import keras
from keras import layers

keras.{setter}("channels_first")

def build():
    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.Conv2D(32, 3)(inputs)
    x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
    x = layers.Conv2D(32, 3)(x)
    x = layers.BatchNormalization(axis=1)(x)
    x = layers.Conv2D(32, 3, data_format="channels_last")(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, x)
"""


@pytest.mark.parametrize("setter", ["backend.set_image_data_format", "config.set_image_data_format"])
def test_global_image_data_format(setter):
    assert_findings(GLOBAL_FORMAT.replace("{setter}", setter), "BN001")


def test_global_format_from_tf_keras_backend():
    source = """
    import tensorflow as tf
    from tensorflow.keras import backend as K

    K.set_image_data_format("channels_first")
    model = tf.keras.Sequential([
        tf.keras.layers.Conv2D(16, 3, input_shape=(1, 28, 28)),
        tf.keras.layers.BatchNormalization(),  # expect: BN001 error @tf.keras.layers.BatchNormalization
        tf.keras.layers.ReLU(),
    ])
    """
    assert_findings(source, "BN001")


def test_global_format_set_earlier_in_builder_function():
    source = """
    import keras
    from keras import layers

    def build():
        keras.backend.set_image_data_format("channels_first")
        model = keras.Sequential()
        model.add(layers.Conv2D(16, 3, input_shape=(1, 28, 28)))
        model.add(layers.BatchNormalization())  # expect: BN001 error @layers.BatchNormalization
        return model
    """
    assert_findings(source, "BN001")


def test_global_channels_last_is_the_default():
    source = """
    import keras
    from keras import layers

    keras.config.set_image_data_format("channels_last")
    model = keras.Sequential([
        layers.Conv2D(16, 3, input_shape=(28, 28, 1)),
        layers.BatchNormalization(),
        layers.Conv2D(16, 3),
        layers.BatchNormalization(axis=1),  # expect: BN001 error @layers.BatchNormalization
    ])
    """
    assert_findings(source, "BN001")


def test_settings_image_data_format():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(16, 3)(x)
        return layers.BatchNormalization()(x)
    """
    assert findings(source, "BN001") == []
    assert findings(source, "BN001", image_data_format="channels_first") == [("BN001", 6, 12, "error")]


MODULE_CONSTANTS = """
import keras
from keras import layers

DATA_FORMAT = "channels_first"
BN_AXIS = 1
WRONG_AXIS = -1

def build():
    inputs = keras.Input(shape=(3, 64, 64))
    x = layers.Conv2D(32, 3, data_format=DATA_FORMAT)(inputs)
    x = layers.BatchNormalization(axis=BN_AXIS)(x)
    x = layers.Conv2D(32, 3, data_format=DATA_FORMAT)(x)
    x = layers.BatchNormalization(axis=WRONG_AXIS)(x)  # expect: BN001 error @layers.BatchNormalization
    return keras.Model(inputs, x)
"""

MODULE_CONSTANT_AXIS_CHANNELS_LAST = """
from keras import layers

BN_AXIS = 1

def block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization(axis=BN_AXIS)(x)  # expect: BN001 error @layers.BatchNormalization
    return layers.Activation("relu")(x)
"""


@pytest.mark.parametrize("source", [
    pytest.param(MODULE_CONSTANTS, id="channels-first-constant"),
    pytest.param(MODULE_CONSTANT_AXIS_CHANNELS_LAST, id="axis-constant-on-channels-last"),
])
def test_module_constants(source):
    assert_findings(source, "BN001")


def test_pooling_fixes_the_layout():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.MaxPooling2D(data_format="channels_first")(x)
        x = layers.Dropout(0.1)(x)
        x = layers.BatchNormalization()(x)  # expect: BN001 error @layers.BatchNormalization
        x = layers.UpSampling2D(data_format="channels_last")(x)
        x = layers.BatchNormalization()(x)
        return x
    """
    assert_findings(source, "BN001")


# ------------------------------------------------------------------- ranks

@pytest.mark.parametrize(("conv", "data_format", "axis", "reported"), [
    ("Conv1D", "channels_last", -1, False),
    ("Conv1D", "channels_last", 2, False),
    ("Conv1D", "channels_last", 1, True),
    ("Conv1D", "channels_first", 1, False),
    ("Conv1D", "channels_first", -1, True),
    ("Conv2D", "channels_last", 3, False),
    ("Conv2D", "channels_last", 2, True),
    ("Conv2D", "channels_first", 1, False),
    ("Conv2D", "channels_first", 3, True),
    ("Conv3D", "channels_last", 4, False),
    ("Conv3D", "channels_last", -1, False),
    ("Conv3D", "channels_last", 1, True),
    ("Conv3D", "channels_first", 1, False),
    ("Conv3D", "channels_first", 4, True),
    ("Conv3D", "channels_first", -4, False),
])
def test_channel_axis_by_rank(conv, data_format, axis, reported):
    source = f"""
    from keras import layers

    def block(x):
        x = layers.{conv}(8, 3, data_format="{data_format}")(x)
        return layers.BatchNormalization(axis={axis})(x)
    """
    assert findings(source, "BN001") == ([("BN001", 6, 12, "error")] if reported else [])


@pytest.mark.parametrize("axis", ["1", "-1", "[1]", "(-1,)"])
@pytest.mark.parametrize("flattening", [
    'layers.Flatten()',
    'layers.Dense(128)(layers.Flatten()',
    'layers.Dense(128, activation="relu")(layers.Flatten()',
    'layers.GlobalAveragePooling2D(data_format="channels_first")',
    'layers.GlobalMaxPooling2D()',
])
def test_rank2_accepts_both_feature_axes(flattening, axis):
    source = f"""
    import keras
    from keras import layers

    keras.backend.set_image_data_format("channels_first")
    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.Conv2D(16, 3, data_format="channels_first")(inputs)
    x = {flattening}(x){")" if "(layers." in flattening else ""}
    x = layers.BatchNormalization(axis={axis})(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs)
    """
    assert findings(source, "BN001") == []


def test_rank2_sequential_head():
    source = """
    import keras
    from keras import layers

    model = keras.Sequential([
        layers.Conv2D(32, 3, data_format="channels_first", input_shape=(3, 32, 32)),
        layers.BatchNormalization(axis=1),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dense(256),
        layers.BatchNormalization(axis=1),
        layers.ReLU(),
        layers.Dense(10),
        layers.BatchNormalization(),
    ])
    """
    assert findings(source, "BN001") == []


def test_bn_on_input_needs_known_format_and_rank():
    unknown = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.BatchNormalization()(inputs)
    model = keras.Model(inputs, layers.Conv2D(8, 3)(x))
    """
    assert findings(unknown, "BN001") == []
    known = """
    import keras
    from keras import layers

    keras.config.set_image_data_format("channels_first")
    inputs = keras.Input(shape=(3, 32, 32))
    x = layers.BatchNormalization()(inputs)  # expect: BN001 error @layers.BatchNormalization
    model = keras.Model(inputs, layers.Conv2D(8, 3)(x))
    """
    assert_findings(known, "BN001")
    no_rank = """
    import keras
    from keras import layers

    keras.config.set_image_data_format("channels_first")

    def block(x):
        return layers.BatchNormalization()(x)
    """
    assert findings(no_rank, "BN001") == []


# ------------------------------------------------------ tricky negatives

AXIS_FROM_IMAGE_DATA_FORMAT = """
import keras
from keras import layers
from keras import backend

{setter}

def conv_block(x, filters):
    bn_axis = 1 if {getter}() == "channels_first" else 3
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization(axis=bn_axis)(x)
    return layers.Activation("relu")(x)

def build():
    inputs = keras.Input(shape=(224, 224, 3))
    x = conv_block(inputs, 64)
    return keras.Model(inputs, conv_block(x, 128))
"""


@pytest.mark.parametrize("setter", [
    "",
    'keras.backend.set_image_data_format("channels_first")',
    'keras.config.set_image_data_format("channels_last")',
])
@pytest.mark.parametrize("getter", ["keras.backend.image_data_format", "backend.image_data_format",
                                    "keras.config.image_data_format"])
def test_axis_computed_from_image_data_format(setter, getter):
    source = AXIS_FROM_IMAGE_DATA_FORMAT.replace("{setter}", setter).replace("{getter}", getter)
    assert findings(source, "BN001") == []


def test_axis_from_image_data_format_at_module_level():
    source = """
    import tensorflow as tf
    from tensorflow.keras import layers

    if tf.keras.backend.image_data_format() == "channels_last":
        BN_AXIS = 3
    else:
        BN_AXIS = 1

    def identity_block(x, filters):
        y = layers.Conv2D(filters, 1)(x)
        y = layers.BatchNormalization(axis=BN_AXIS)(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        y = layers.BatchNormalization(axis=BN_AXIS)(y)
        return layers.add([y, x])
    """
    assert findings(source, "BN001") == []


def test_if_else_statement_assigning_self_bn_axis():
    source = """
    import keras
    from keras import layers


    class ResidualUnit(layers.Layer):
        def __init__(self, filters, **kwargs):
            super().__init__(**kwargs)
            if keras.backend.image_data_format() == "channels_first":
                self._bn_axis = 1
            else:
                self._bn_axis = -1
            self.conv = layers.Conv2D(filters, 3, padding="same")
            self.bn = layers.BatchNormalization(axis=self._bn_axis)

        def call(self, inputs, training=None):
            x = self.bn(self.conv(inputs), training=training)
            return keras.activations.relu(x + inputs)
    """
    assert findings(source, "BN001") == []


def test_unknown_axis_is_never_guessed():
    source = """
    from keras import layers
    from config import get_axis

    def block(x, axis):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization(axis=get_axis())(x)
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization(axis=axis)(x)
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization(**bn_kwargs)(x)
        return x
    """
    assert findings(source, "BN001") == []


def test_unknown_data_format_is_never_guessed():
    source = """
    from keras import layers
    import settings

    def block(x):
        x = layers.Conv2D(8, 3, data_format=settings.DATA_FORMAT)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Conv2D(8, 3, data_format=settings.DATA_FORMAT)(x)
        return layers.BatchNormalization(axis=1)(x)
    """
    assert findings(source, "BN001") == []


def test_merge_of_disagreeing_layouts_is_not_judged():
    source = """
    from keras import layers

    def block(x):
        a = layers.Conv2D(8, 3, data_format="channels_first")(x)
        b = layers.Conv2D(8, 3, data_format="channels_last")(x)
        return layers.BatchNormalization()(layers.add([a, b]))
    """
    assert findings(source, "BN001") == []


def test_multi_axis_bn_is_not_judged():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        return layers.BatchNormalization(axis=[1, 2])(x)
    """
    assert findings(source, "BN001") == []


def test_positional_axis():
    source = """
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, 1, "same", "channels_first")(x)
        x = layers.BatchNormalization(-1)(x)  # expect: BN001 error @layers.BatchNormalization
        x = layers.Conv2D(8, 3, 1, "same", "channels_first")(x)
        return layers.BatchNormalization(1, 0.9, 1e-5)(x)
    """
    assert_findings(source, "BN001")


def test_dense_on_a_feature_map_keeps_its_rank():
    # Dense acts on the last axis of a 4-D tensor: the output is still 4-D, features last.
    source = """
    from keras import layers

    def head(x):
        x = layers.Conv2D(16, 3, data_format="channels_first")(x)
        x = layers.Dense(32)(x)
        return layers.BatchNormalization(axis=1)(x)  # expect: BN001 error @layers.BatchNormalization
    """
    assert_findings(source, "BN001")


def test_global_format_set_after_the_model_is_built():
    source = """
    import keras
    from keras import layers

    def build_both():
        last = keras.Sequential([
            layers.Conv2D(8, 3, input_shape=(32, 32, 3)),
            layers.BatchNormalization(),
        ])
        keras.backend.set_image_data_format("channels_first")
        first = keras.Sequential([
            layers.Conv2D(8, 3, input_shape=(3, 32, 32)),
            layers.BatchNormalization(),  # expect: BN001 error @layers.BatchNormalization
        ])
        return last, first
    """
    assert_findings(source, "BN001")


def test_global_format_set_after_a_functional_model_is_built():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(8, 3)(inputs)
    x = layers.BatchNormalization()(x)
    keras.backend.set_image_data_format("channels_first")
    model = keras.Model(inputs, x)
    """
    assert findings(source, "BN001") == []


def test_axis_chosen_by_an_if_statement_on_the_image_data_format_is_not_reported():
    # The attribute is set in both branches of an ``if`` the linter cannot decide:
    # it is correct by construction, whatever the format.
    assert_findings(
        """
        import keras
        from keras import layers

        class Stem(keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                if keras.backend.image_data_format() == "channels_last":
                    self._bn_axis = -1
                else:
                    self._bn_axis = 1
                self.conv = layers.Conv2D(32, 3, data_format="channels_last")
                self.bn = layers.BatchNormalization(axis=self._bn_axis)

            def call(self, x):
                return self.bn(self.conv(x))
        """,
        "BN001",
    )
