"""BN010 bn-on-output: a BN between a model's last Dense/conv and its output."""
from __future__ import annotations

import textwrap

import pytest

from cliutil import bnlint, write
from fixutil import fix
from lintutil import assert_findings, lint

SEQUENTIAL_REGRESSION = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(13,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(1),
    layers.BatchNormalization(),  # expect: BN010 info @layers.BatchNormalization
])
"""

SEQUENTIAL_SOFTMAX = """
import keras
from keras import layers

NUM_CLASSES = 10

model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(128, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dense(NUM_CLASSES),
    layers.BatchNormalization(),  # expect: BN010 info @layers.BatchNormalization
    layers.Activation("softmax"),
])
"""

MODEL_ADD = """
from tensorflow import keras

model = keras.models.Sequential()
model.add(keras.layers.Dense(256, activation="relu", input_shape=(784,)))
model.add(keras.layers.Dense(10))
model.add(keras.layers.BatchNormalization())  # expect: BN010 info @keras.layers.BatchNormalization
model.add(keras.layers.Activation("softmax"))
"""

FUNCTIONAL = """
import keras
from keras import layers


def build(num_classes=5):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    logits = layers.Dense(num_classes)(x)
    logits = layers.BatchNormalization()(logits)  # expect: BN010 info @layers.BatchNormalization
    outputs = layers.Softmax()(logits)
    return keras.Model(inputs, outputs)
"""

AFTER_THE_SOFTMAX = """
import keras
from keras import layers

inputs = keras.Input(shape=(20,))
x = layers.Dense(3, activation="softmax")(inputs)
x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
model = keras.Model(inputs, x)
"""

GENERATOR_OUTPUT = """
import keras
from keras import layers


def build_generator(latent_dim=100):
    noise = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 128, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
    image = layers.Activation("tanh")(x)
    return keras.Model(noise, image)
"""

SEGMENTATION_HEAD = """
import keras
from keras import layers


def build_segmenter(n_classes=4):
    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(n_classes, 1)(x)
    x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
    x = layers.Reshape((64 * 64, n_classes))(x)
    return keras.Model(inputs, layers.Activation("softmax")(x))
"""

HELPER_CALLED_BY_A_BUILDER = """
import keras
from keras import layers


def classifier_head(x, classes):
    x = layers.Dense(classes)(x)
    x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
    return layers.Activation("sigmoid")(x)


def build():
    inputs = keras.Input(shape=(40,))
    x = layers.Dense(64, activation="relu")(inputs)
    return keras.Model(inputs, classifier_head(x, 3))
"""

HELPER_ENDING_IN_A_PROBABILITY = """
from keras import layers


def classifier_head(features, num_classes):
    x = layers.GlobalAveragePooling2D()(features)
    x = layers.Dense(num_classes)(x)
    x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
    return layers.Softmax()(x)
"""

SUBCLASS_MODEL = """
import keras
from keras import layers


class Classifier(keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.hidden = layers.Dense(64, activation="relu")
        self.logits = layers.Dense(num_classes)
        self.norm = layers.BatchNormalization()  # expect: BN010 info @layers.BatchNormalization
        self.probs = layers.Softmax()

    def call(self, x, training=False):
        x = self.hidden(x)
        x = self.logits(x)
        x = self.norm(x, training=training)
        return self.probs(x)
"""

# Under a flag the trace cannot decide, the BN is on the logits whenever it is there.
OPTIONAL_HEAD_BN = """
import keras
from keras import layers


def build(normalize_logits, num_classes=3):
    inputs = keras.Input(shape=(8,))
    if normalize_logits:
        x = layers.BatchNormalization()(layers.Dense(num_classes)(inputs))  # expect: BN010 info @layers.BatchNormalization
    else:
        x = layers.Dense(num_classes)(inputs)
    return keras.Model(inputs, layers.Softmax()(x))
"""

# A keras.Model subclass's ``call`` returns the model's output.
MODEL_SUBCLASS_ENDING_IN_BN = """
import keras
from keras import layers


class Scorer(keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.fc = layers.Dense(num_classes)
        self.bn = layers.BatchNormalization()  # expect: BN010 info @layers.BatchNormalization

    def call(self, x):
        return self.bn(self.fc(x))
"""

# A builder that makes a model from the tensor it is given.
BUILDER_WITH_AN_INPUT_PARAMETER = """
import keras
from keras import layers


def build_regressor(inputs):
    x = layers.Dense(32, activation="relu")(inputs)
    x = layers.Dense(1)(x)
    x = layers.BatchNormalization()(x)  # expect: BN010 info @layers.BatchNormalization
    return keras.Model(inputs, x)
"""

MULTI_OUTPUT = """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
shared = layers.Dense(32, activation="relu")(inputs)
age = layers.Dense(1)(shared)
age = layers.BatchNormalization()(age)  # expect: BN010 info @layers.BatchNormalization
gender = layers.Dense(2, activation="softmax")(shared)
model = keras.Model(inputs, [age, gender])
"""


# Dropout before the softmax (where BN003's fix moves a dropout that fed this BN) is the identity at inference.
DROPOUT_BEFORE_THE_SOFTMAX = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(64,)),
    layers.Dense(10),
    layers.BatchNormalization(),  # expect: BN010 info @layers.BatchNormalization
    layers.Dropout(0.5),
    layers.Softmax(),
])
"""


@pytest.mark.parametrize("source", [
    pytest.param(DROPOUT_BEFORE_THE_SOFTMAX, id="dropout-before-the-softmax"),
    pytest.param(SEQUENTIAL_REGRESSION, id="sequential-regression"),
    pytest.param(SEQUENTIAL_SOFTMAX, id="sequential-softmax"),
    pytest.param(MODEL_ADD, id="model-add"),
    pytest.param(FUNCTIONAL, id="functional"),
    pytest.param(AFTER_THE_SOFTMAX, id="after-the-softmax"),
    pytest.param(GENERATOR_OUTPUT, id="generator-output"),
    pytest.param(SEGMENTATION_HEAD, id="segmentation-head"),
    pytest.param(HELPER_CALLED_BY_A_BUILDER, id="helper-called-by-a-builder"),
    pytest.param(HELPER_ENDING_IN_A_PROBABILITY, id="helper-ending-in-a-probability"),
    pytest.param(SUBCLASS_MODEL, id="subclass-model"),
    pytest.param(MULTI_OUTPUT, id="multi-output"),
    pytest.param(OPTIONAL_HEAD_BN, id="optional-head-bn"),
    pytest.param(MODEL_SUBCLASS_ENDING_IN_BN, id="model-subclass-ending-in-bn"),
    pytest.param(BUILDER_WITH_AN_INPUT_PARAMETER, id="builder-with-an-input-parameter"),
])
def test_reported(source):
    assert_findings(source, "BN010")


# keras-io's EfficientNet fine-tuning head: BN on the pooled features, before the classifier.
EFFICIENTNET_HEAD = """
import keras
from keras import layers

inputs = keras.Input(shape=(7, 7, 1280))
x = layers.GlobalAveragePooling2D()(inputs)
x = layers.BatchNormalization()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
"""

# A backbone that returns its stage features, each BN -> ReLU: features, not logits.
FEATURE_EXTRACTOR = """
import keras
from keras import layers


def build_backbone():
    inputs = keras.Input(shape=(128, 128, 3))
    features = {}
    x = inputs
    for stage, filters in enumerate([32, 64, 128]):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        features[f"P{stage + 3}"] = x
    return keras.Model(inputs, features)
"""

# Feature maps normalized but not activated (FPN-style 1x1 laterals) returned as outputs: their
# width names no prediction, so they are features too.
NORMALIZED_FEATURE_OUTPUTS = """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
c3 = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(inputs)
c4 = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu")(c3)
p3 = layers.BatchNormalization()(layers.Conv2D(96, 1)(c3))
p4 = layers.BatchNormalization()(layers.Conv2D(96, 1)(c4))
model = keras.Model(inputs, [p3, p4])
"""

# A contrastive projector ends in a BN by design (SimCLR, SimSiam): an embedding of unknown meaning.
PROJECTION_HEAD = """
import keras
from keras import layers

projector = keras.Sequential([
    layers.Dense(256, activation="relu"),
    layers.Dense(128),
    layers.BatchNormalization(),
], name="projector")
"""

# Blocks that end in BN, written for other modules: their return feeds the caller's next layers.
UNCALLED_BLOCKS = """
from keras import layers


def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    return layers.BatchNormalization()(x)


def squeeze(x, units=1):
    x = layers.Dense(units)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("sigmoid")(x)
"""

# A ``keras.layers.Layer`` is a block: its return is judged only when it is a probability.
LAYER_ENDING_IN_BN = """
from keras import layers


class ScoreHead(layers.Layer):
    def __init__(self, num_classes=10):
        super().__init__()
        self.fc = layers.Dense(num_classes)
        self.bn = layers.BatchNormalization()

    def call(self, x):
        return self.bn(self.fc(x))
"""

HIDDEN_ACTIVATION = """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(8,)),
    layers.Dense(1),
    layers.BatchNormalization(),
    layers.ReLU(),
])
"""

OPTIONAL_BN = """
import keras
from keras import layers


def build(use_bn, num_classes=3):
    inputs = keras.Input(shape=(8,))
    x = layers.Dense(num_classes)(inputs)
    if use_bn:
        x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Softmax()(x))
"""

# A model that outputs the raw scores and their normalized copy side by side.
RAW_AND_NORMALIZED = """
import keras
from keras import layers

inputs = keras.Input(shape=(8,))
scores = layers.Dense(1)(inputs)
model = keras.Model(inputs, [scores, layers.BatchNormalization()(scores)])
"""

ALSO_USED_INSIDE = """
import keras
from keras import layers

inputs = keras.Input(shape=(8,))
score = layers.Dense(1)(inputs)
score = layers.BatchNormalization()(score)
gate = layers.Dense(8, activation="sigmoid")(score)
model = keras.Model(inputs, [score, layers.Multiply()([inputs, gate])])
"""

UNKNOWN_OP_AFTER = """
import keras
import tensorflow as tf
from keras import layers

inputs = keras.Input(shape=(8,))
x = layers.Dense(1)(inputs)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, tf.clip_by_value(x, 0.0, 1.0))
"""

NO_KNOWN_OUTPUT = """
import keras
from keras import layers

inputs = keras.Input(shape=(8,))
x = layers.Dense(1)(inputs)
x = layers.BatchNormalization()(x)
y = layers.Dense(4)(x)
"""


@pytest.mark.parametrize("source", [
    pytest.param(EFFICIENTNET_HEAD, id="efficientnet-head"),
    pytest.param(FEATURE_EXTRACTOR, id="feature-extractor"),
    pytest.param(NORMALIZED_FEATURE_OUTPUTS, id="normalized-feature-outputs"),
    pytest.param(PROJECTION_HEAD, id="projection-head"),
    pytest.param(UNCALLED_BLOCKS, id="uncalled-blocks"),
    pytest.param(LAYER_ENDING_IN_BN, id="layer-ending-in-bn"),
    pytest.param(HIDDEN_ACTIVATION, id="hidden-activation"),
    pytest.param(OPTIONAL_BN, id="optional-bn"),
    pytest.param(RAW_AND_NORMALIZED, id="raw-and-normalized"),
    pytest.param(ALSO_USED_INSIDE, id="also-used-inside"),
    pytest.param(UNKNOWN_OP_AFTER, id="unknown-op-after"),
    pytest.param(NO_KNOWN_OUTPUT, id="no-known-output"),
])
def test_not_reported(source):
    assert_findings(source, "BN010")


def test_message_names_the_head_and_the_activation():
    [diagnostic] = lint(FUNCTIONAL, "BN010")
    assert diagnostic.name == "bn-on-output" and diagnostic.severity.label == "info"
    assert diagnostic.message.startswith(
        "BatchNormalization normalizes the model's output from Dense (line 12) before its softmax:")
    [after] = lint(AFTER_THE_SOFTMAX, "BN010")
    assert "from Dense (line 6) after its softmax:" in after.message
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "unsafe"
    assert [(edit.kind, edit.keyword) for edit in diagnostic.fix.edits] == [("remove-layer", None),
                                                                            ("remove-keyword", "use_bias")]


# ------------------------------------------------------------------ the fix

def fixed(source: str) -> str:
    outcome = fix(source, select=["BN010"])
    assert outcome.problem is None and not outcome.remaining
    again = fix(outcome.fixed.decode(), select=["BN010"], dedent=False)
    assert not again.found and not again.changed  # idempotent, and nothing left to report
    return outcome.fixed.decode()


def test_fix_functional_keeps_the_activation_and_the_comments():
    source = """
    import keras
    from keras import layers


    def build(num_classes=5):
        inputs = keras.Input(shape=(16,))
        logits = layers.Dense(num_classes)(inputs)
        # standardize the logits
        normed = layers.BatchNormalization()(logits)  # per class
        probs = layers.Activation("softmax")(normed)
        return keras.Model(inputs, probs)
    """
    assert fixed(source) == textwrap.dedent("""
    import keras
    from keras import layers


    def build(num_classes=5):
        inputs = keras.Input(shape=(16,))
        logits = layers.Dense(num_classes)(inputs)
        # standardize the logits
        # per class
        probs = layers.Activation("softmax")(logits)
        return keras.Model(inputs, probs)
    """)


def test_fix_sequential_list_and_model_add():
    assert fixed(SEQUENTIAL_REGRESSION) == textwrap.dedent(SEQUENTIAL_REGRESSION).replace(
        "    layers.Dense(1),\n    layers.BatchNormalization(),  # expect: BN010 info @layers.BatchNormalization\n",
        "    layers.Dense(1),  # expect: BN010 info @layers.BatchNormalization\n")
    assert fixed(MODEL_ADD) == textwrap.dedent(MODEL_ADD).replace(
        "model.add(keras.layers.BatchNormalization())  # expect: BN010 info @keras.layers.BatchNormalization\n",
        "# expect: BN010 info @keras.layers.BatchNormalization\n")


def test_fix_subclass_removes_the_attribute_and_its_call():
    result = fixed(SUBCLASS_MODEL)
    assert "self.norm" not in result
    assert "x = self.logits(x)\n        return self.probs(x)" in result


def test_fix_gives_the_last_layer_back_its_bias():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(16,))
    x = layers.Dense(3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    model = keras.Model(inputs, layers.Activation("sigmoid")(x))
    """
    result = fixed(source)
    assert "x = layers.Dense(3)(inputs)\n" in result and "BatchNormalization" not in result


def test_fix_leaves_a_use_bias_it_cannot_read():
    source = """
    import keras
    from keras import layers


    def build(use_bias, num_classes=3):
        inputs = keras.Input(shape=(16,))
        x = layers.Dense(num_classes, use_bias=use_bias)(inputs)
        x = layers.BatchNormalization()(x)
        return keras.Model(inputs, layers.Softmax()(x))
    """
    result = fixed(source)
    assert "layers.Dense(num_classes, use_bias=use_bias)(inputs)" in result and "BatchNormalization" not in result


def test_with_bn005_the_head_keeps_its_bias(tmp_path):
    # BN005 says the Dense's bias is cancelled by the BN; BN010 removes the BN. Applied together in one
    # pass they would leave an output layer with neither: the fixes wait for each other instead.
    path = write(tmp_path / "model.py", FUNCTIONAL)
    first = bnlint("--isolated", "--select", "BN005,BN010", "model.py", cwd=tmp_path)
    assert " BN005 " in first.stdout and " BN010 " in first.stdout
    run = bnlint("--isolated", "--select", "BN005,BN010", "--fix", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    text = path.read_text()
    assert "logits = layers.Dense(num_classes)(x)\n" in text and "BatchNormalization()(logits)" not in text
    assert bnlint("--isolated", "--select", "BN005,BN010", "model.py", cwd=tmp_path).stdout.startswith(
        "All checks passed!")


def test_with_bn003_the_output_bn_still_goes():
    # BN003 moves a dropout that feeds the output BN to after it; BN010 then still removes the BN,
    # and the head keeps its bias although BN005 reported it while the BN was there.
    source = """
    import keras
    from keras import layers


    def build(num_classes=10):
        inputs = keras.Input(shape=(7, 7, 256))
        x = layers.GlobalAveragePooling2D()(inputs)
        x = layers.Dropout(0.5)(x)
        x = layers.Dense(num_classes)(x)
        x = layers.BatchNormalization()(x)
        return keras.Model(inputs, layers.Activation("softmax")(x))
    """
    outcome = fix(source, select=[])
    assert {d.code for d in outcome.found} == {"BN003", "BN005", "BN010"}
    assert outcome.problem is None and not outcome.remaining
    result = outcome.fixed.decode()
    assert "BatchNormalization" not in result and "x = layers.Dense(num_classes)(x)\n" in result


def test_fix_offered_for_a_builder_that_a_main_block_also_calls():
    # The call under ``if __name__ == "__main__":`` traces the builder a second time, as an
    # undecided branch: the finding holds in that use too, so the fix is right in every use.
    source = textwrap.dedent(FUNCTIONAL) + '\n\nif __name__ == "__main__":\n    build().summary()\n'
    [diagnostic] = lint(source, "BN010")
    assert diagnostic.fix is not None and "fix_refused" not in diagnostic.extra
    assert "BatchNormalization()(logits)" not in fixed(source)


def test_checkpoint_note_where_the_file_loads_weights():
    source = textwrap.dedent(MULTI_OUTPUT) + 'model.load_weights("age_gender.weights.h5")\n'
    [diagnostic] = lint(source, "BN010")
    assert diagnostic.message.endswith("existing checkpoints no longer load)")


def test_fix_refused_where_the_model_reads_the_bn_output_by_its_own_name():
    source = """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(16,))
    x = layers.Dense(1)(inputs)
    prediction = layers.BatchNormalization()(x)
    model = keras.Model(inputs, prediction)
    """
    outcome = fix(source, select=["BN010"])
    assert not outcome.changed
    [left] = outcome.remaining
    assert left.extra["fix_refused"] == "the layer's output is a model output under a name of its own"


def test_fix_refused_for_a_helper_whose_other_use_is_not_an_output():
    source = """
    import keras
    from keras import layers


    def dense_bn(x, units):
        x = layers.Dense(units)(x)
        x = layers.BatchNormalization()(x)
        return x


    def build(num_classes=4):
        inputs = keras.Input(shape=(16,))
        h = layers.ReLU()(dense_bn(inputs, 64))
        return keras.Model(inputs, layers.Softmax()(dense_bn(h, num_classes)))
    """
    [diagnostic] = lint(source, "BN010")
    assert diagnostic.line == 8
    assert diagnostic.fix is None
    assert diagnostic.extra["fix_refused"] == "the layer is shared by 2 uses and the fix is right in only 1 of them"


def test_cli_reports_and_unsafe_fix_removes(tmp_path):
    path = write(tmp_path / "model.py", FUNCTIONAL)
    run = bnlint("--isolated", "--select", "BN010", "model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr  # info does not fail the run
    assert "model.py:13:14: info: BN010 BatchNormalization normalizes the model's output" in run.stdout
    assert "1 more with --unsafe-fixes" in run.stdout or "fixable with --fix --unsafe-fixes" in run.stdout
    safe_only = bnlint("--isolated", "--select", "BN010", "--fix", "model.py", cwd=tmp_path)
    assert safe_only.returncode == 0 and "BatchNormalization()(logits)" in path.read_text()
    done = bnlint("--isolated", "--select", "BN010", "--fix", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BatchNormalization()(logits)" not in path.read_text()
    assert "outputs = layers.Softmax()(logits)" in path.read_text()
    assert bnlint("--isolated", "--select", "BN010", "--fail-on", "info", "model.py", cwd=tmp_path).returncode == 0
