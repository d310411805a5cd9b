"""BN012 bn-in-recurrence: BN on an RNN cell's recurrent state (warning), BN on a padded sequence of an old Keras (info)."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from fixutil import fix, fixed_text
from lintutil import assert_findings, graphs, lint

# The cell's BN normalizes W x + U h_prev: it is shared by every time step.
CELL_ON_STATE = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class NormalizedRNNCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.kernel = layers.Dense(units)
        self.recurrent_kernel = layers.Dense(units, use_bias=False)
        self.bn = layers.BatchNormalization(momentum=0.95)  # expect: BN012 warning @layers.BatchNormalization

    def call(self, inputs, states, training=None):
        previous = states[0]
        h = self.kernel(inputs) + self.recurrent_kernel(previous)
        h = self.bn(h, training=training)
        output = tf.tanh(h)
        return output, [output]


def build(steps=20, features=8):
    inputs = keras.Input((steps, features))
    x = layers.RNN(NormalizedRNNCell(32))(inputs)
    return keras.Model(inputs, layers.Dense(1)(x))
"""

# An LSTM-style cell: the states unpack into h and c, the recurrent term is a matmul with a weight.
LSTM_CELL_UNPACKED = """
import tensorflow as tf
import keras
from keras import layers, ops


class BatchNormLSTMCell(keras.layers.Layer):
    state_size = None

    def __init__(self, units):
        super().__init__()
        self.units = units
        self.state_size = [units, units]
        self.bn_x = layers.BatchNormalization()
        self.bn_h = layers.BatchNormalization()  # expect: BN012 warning @layers.BatchNormalization
        self.bn_c = layers.BatchNormalization()  # expect: BN012 warning @layers.BatchNormalization

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * self.units))
        self.recurrent_kernel = self.add_weight(shape=(self.units, 4 * self.units))

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        x = self.bn_x(ops.matmul(inputs, self.kernel), training=training)
        h = self.bn_h(ops.matmul(h_prev, self.recurrent_kernel), training=training)
        i, f, g, o = ops.split(x + h, 4, axis=-1)
        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        h_new = ops.sigmoid(o) * ops.tanh(self.bn_c(c, training=training))
        return h_new, [h_new, c]
"""

# Keras 3's own cells accept ``states`` as a list or, for one state, as a tensor.
STATES_EITHER_WAY = """
import keras


class MinimalCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = units
        self.project = keras.layers.Dense(units)
        self.norm = keras.layers.BatchNormalization()  # expect: BN012 warning @keras.layers.BatchNormalization

    def call(self, inputs, states):
        prev_output = states[0] if isinstance(states, (list, tuple)) else states
        h = self.project(keras.ops.concatenate([inputs, prev_output], axis=-1))
        output = self.norm(h)
        return output, [output]
"""

# ``state_size`` as a property, the state parameter named ``hidden``.
PROPERTY_STATE_SIZE = """
from tensorflow.keras import backend as K
from tensorflow.keras.layers import BatchNormalization, Layer


class PropertyCell(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.bn = BatchNormalization()  # expect: BN012 warning @BatchNormalization

    @property
    def state_size(self):
        return self.units

    def build(self, input_shape):
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, hidden):
        h = K.dot(hidden[0], self.recurrent_kernel)
        h = K.tanh(inputs + self.bn(h))
        return h, [h]
"""


@pytest.mark.parametrize("source", [CELL_ON_STATE, LSTM_CELL_UNPACKED, STATES_EITHER_WAY, PROPERTY_STATE_SIZE],
                         ids=["state-index", "lstm-unpacked", "states-either-way", "property"])
def test_bn_on_the_recurrent_path_of_a_cell(source):
    assert_findings(source, "BN012")


def test_message_names_the_cell_and_its_state():
    [finding] = lint(CELL_ON_STATE, "BN012")
    assert "RNN cell `NormalizedRNNCell`" in finding.message
    assert "previous step's state (`states`)" in finding.message
    assert "LayerNormalization" in finding.message
    assert finding.fix is not None and finding.fix.applicability.value == "unsafe"


def test_bn_on_the_step_input_alone_is_not_reported():
    # Decided from Laurent et al. 2016: the input-to-hidden path is the one BN helps, and the
    # input's distribution does not drift with the time step as the state's does.
    source = """
    import tensorflow as tf
    from tensorflow.keras import layers


    class InputNormCell(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.state_size = units
            self.bn = layers.BatchNormalization()
            self.kernel = layers.Dense(units)
            self.recurrent = layers.Dense(units)

        def call(self, inputs, states, training=None):
            x = self.kernel(self.bn(inputs, training=training))
            h = tf.tanh(x + self.recurrent(states[0]))
            return h, [h]
    """
    assert lint(source, "BN012") == []


def test_a_layer_with_two_inputs_but_no_state_size_is_no_cell():
    source = """
    from tensorflow.keras import layers


    class CrossNorm(layers.Layer):
        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization()

        def call(self, query, value):
            return self.bn(query + value)
    """
    assert lint(source, "BN012") == []


def test_bn_after_the_rnn_layer_in_a_plain_model_is_not_reported():
    source = """
    from tensorflow import keras
    from tensorflow.keras import layers

    inputs = keras.Input((100, 16))
    x = layers.LSTM(64, return_sequences=True)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.GRU(32)(x)
    x = layers.BatchNormalization()(x)
    model = keras.Model(inputs, layers.Dense(1)(x))
    """
    assert lint(source, "BN012") == []


def test_bn_in_a_time_distributed_cnn_is_not_reported():
    source = """
    from tensorflow import keras
    from tensorflow.keras import layers

    frames = keras.Input((16, 64, 64, 3))
    x = layers.TimeDistributed(layers.Conv2D(32, 3, use_bias=False))(frames)
    x = layers.TimeDistributed(layers.BatchNormalization())(x)
    x = layers.TimeDistributed(layers.ReLU())(x)
    x = layers.TimeDistributed(layers.GlobalAveragePooling2D())(x)
    x = layers.LSTM(64)(x)
    model = keras.Model(frames, layers.Dense(10, activation="softmax")(x))
    """
    assert lint(source, "BN012") == []


# ---------------------------------------------------------------- padded sequences

OLD_KERAS_EMBEDDING = """
from keras.models import Sequential
from keras.layers.embeddings import Embedding
from keras.layers.recurrent import LSTM
from keras.layers.normalization import BatchNormalization
from keras.layers.core import Dense, Dropout

model = Sequential()
model.add(Embedding(20000, 128, mask_zero=True, input_length=80))
model.add(LSTM(128, return_sequences=True))
model.add(BatchNormalization())  # expect: BN012 info @BatchNormalization
model.add(Dropout(0.2))
model.add(LSTM(64))
model.add(BatchNormalization())
model.add(Dense(1, activation="sigmoid"))
"""

TF_INTREE_MASKING = """
from tensorflow.python.keras import layers, models

inputs = layers.Input((None, 40))
x = layers.Masking(mask_value=0.0)(inputs)
x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
x = layers.Dense(64, activation="relu")(x)
x = layers.BatchNormalization()(x)  # expect: BN012 info @layers.BatchNormalization
x = layers.Bidirectional(layers.LSTM(64, return_sequences=False))(x)
x = layers.BatchNormalization()(x)
model = models.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""


@pytest.mark.parametrize("source", [OLD_KERAS_EMBEDDING, TF_INTREE_MASKING], ids=["keras-2.0-embedding", "tf-in-tree"])
def test_bn_on_a_padded_sequence_of_an_old_keras(source):
    assert_findings(source, "BN012")


def test_padded_sequence_message_names_the_mask_and_the_import():
    [finding] = lint(OLD_KERAS_EMBEDDING, "BN012")
    assert "masked by Embedding (line 9)" in finding.message
    assert "`keras.layers.embeddings`" in finding.message
    assert finding.fix is None


MASKED_MODERN = """
{imports}

inputs = keras.Input((None,), dtype="int32")
x = layers.Embedding(5000, 64, mask_zero=True)(inputs)
x = layers.LSTM(64, return_sequences=True)(x)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(1)(layers.GRU(32)(x)))
"""


@pytest.mark.parametrize("imports", [
    "import tf_keras as keras\nfrom tf_keras import layers",  # Keras 2.14+: BN takes the mask
    "import keras\nfrom keras import layers",  # Keras 3, or a Keras 2 of unknown release
    "from tensorflow import keras\nfrom tensorflow.keras import layers",  # any TensorFlow 2
], ids=["tf_keras", "keras", "tensorflow.keras"])
def test_masked_sequences_on_a_keras_whose_bn_takes_the_mask_are_not_reported(imports):
    assert lint(MASKED_MODERN.format(imports=imports), "BN012") == []


def test_a_sequence_without_a_mask_is_not_reported_even_on_an_old_keras():
    source = """
    from keras.models import Sequential
    from keras.layers.recurrent import LSTM
    from keras.layers.embeddings import Embedding
    from keras.layers.normalization import BatchNormalization

    model = Sequential()
    model.add(Embedding(20000, 128, input_length=80))
    model.add(LSTM(128, return_sequences=True))
    model.add(BatchNormalization())
    """
    assert lint(source, "BN012") == []


def test_the_last_step_alone_carries_no_padding():
    source = OLD_KERAS_EMBEDDING.replace("LSTM(128, return_sequences=True)", "LSTM(128)")
    source = source.replace("  # expect: BN012 info @BatchNormalization", "")
    assert lint(source, "BN012") == []


# ---------------------------------------------------------------- frontend facts

def test_the_graph_marks_the_cells_state_input():
    [cell] = [g for g in graphs(CELL_ON_STATE) if g.entry == "NormalizedRNNCell"]
    [state] = [n for n in cell.nodes if n.recurrent_state]
    assert state.op == "Input" and state.label == "states"
    assert not any(n.recurrent_state for g in graphs(CELL_ON_STATE) if g.entry == "build" for n in g.nodes)


@pytest.mark.parametrize(("imports", "old"), [
    ("from keras.layers.recurrent import LSTM", "keras.layers.recurrent"),
    ("from keras.layers import recurrent", "keras.layers"),
    ("import keras.layers.embeddings as emb", "keras.layers.embeddings"),
    ("from keras.layers.normalization import BatchNormalization", "keras.layers.normalization"),
    ("from tensorflow.python.keras.layers import LSTM", "tensorflow.python.keras.layers"),
    ("try:\n    from keras.engine.topology import Layer\nexcept ImportError:\n    pass", "keras.engine.topology"),
    ("from keras.layers.normalization.batch_normalization import BatchNormalization", ""),  # 2.6 to 2.12
    ("from keras.layers.core import Masking", ""),  # a module before 2.9, a package after
    ("import tf_keras", ""),
    ("from tensorflow.keras.layers import LSTM", ""),
])
def test_imports_that_pin_a_keras_before_2_9(imports, old):
    source = imports + "\nfrom keras import layers\nx = layers.BatchNormalization()(layers.Input((3,)))\n"
    [graph] = graphs(source)
    assert graph.facts.old_keras_import == old


# ---------------------------------------------------------------- the fix

def test_fix_constructs_layer_normalization_without_bn_only_arguments():
    fixed = fixed_text(CELL_ON_STATE, select=["BN012"])
    assert "self.bn = layers.LayerNormalization()  # expect: BN012" in fixed
    assert "self.bn(h, training=training)" in fixed
    assert lint(fixed, "BN012") == []


def test_fix_spells_the_new_class_as_the_file_does():
    fixed = fixed_text(PROPERTY_STATE_SIZE, select=["BN012"])
    assert "self.bn = LayerNormalization()" in fixed
    [line] = [line for line in fixed.splitlines() if "import" in line and "LayerNormalization" in line]
    assert line.startswith("from tensorflow.keras.layers import")
    fixed = fixed_text(LSTM_CELL_UNPACKED, select=["BN012"])
    assert fixed.count("layers.LayerNormalization()") == 2
    assert "self.bn_x = layers.BatchNormalization()" in fixed  # the input path keeps its BN


@pytest.mark.parametrize(("construction", "reason"), [
    ("layers.BatchNormalization(-1, 0.9)", "by position"),
    ("layers.BatchNormalization(**bn_options)", "spreads"),
])
def test_fix_refused_where_arguments_would_change_meaning(construction, reason):
    source = CELL_ON_STATE.replace("layers.BatchNormalization(momentum=0.95)", construction)
    source = source.replace("import tensorflow as tf\n", "import tensorflow as tf\nbn_options = {}\n")
    outcome = fix(source, select=["BN012"])
    assert not outcome.changed
    [finding] = lint(source, "BN012")
    assert finding.fix is not None  # offered, then refused by the fixer with its reason
    [refused] = [d for d in outcome.remaining if d.code == "BN012"]
    assert reason in refused.extra["fix_refused"]


def test_fix_notes_checkpoints_where_the_file_loads_weights():
    source = CELL_ON_STATE + "\nmodel = build()\nmodel.load_weights('cell.weights.h5')\n"
    [finding] = lint(source, "BN012")
    assert "checkpoints" in finding.message


# ---------------------------------------------------------------- the command line

def test_cli_reports_and_fixes_the_cell(tmp_path):
    model = write(tmp_path / "cell.py", CELL_ON_STATE)
    run = bnlint("--isolated", "--select", "BN012", model, cwd=tmp_path)
    assert run.returncode == 1, run.stdout
    assert f"{model.name}:14:19: warning: BN012 " in run.stdout.replace(str(tmp_path) + "/", "")
    run = bnlint("--isolated", "--select", "BN012", "--fix", model, cwd=tmp_path)
    assert run.returncode == 1 and "layers.BatchNormalization(momentum=0.95)" in model.read_text()  # unsafe only
    run = bnlint("--isolated", "--select", "BN012", "--fix", "--unsafe-fixes", model, cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert "self.bn = layers.LayerNormalization()" in model.read_text()


def test_cli_padded_sequences_are_info_and_do_not_fail_the_run(tmp_path):
    old = write(tmp_path / "old_imdb.py", OLD_KERAS_EMBEDDING)
    modern = write(tmp_path / "modern.py", MASKED_MODERN.format(imports="import tf_keras as keras\n"
                                                                       "from tf_keras import layers"))
    run = bnlint("--isolated", "--select", "BN012", old, modern, cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert "old_imdb.py:11:11: info: BN012 " in run.stdout
    assert "modern.py" not in run.stdout
    run = bnlint("--isolated", "--select", "BN012", "--fail-on", "info", old, cwd=tmp_path)
    assert run.returncode == 1


def test_one_bn_on_both_paths_is_one_finding_with_its_fix():
    # LayerNormalization is right on the input path too: the fix may change both uses.
    source = """
    from tensorflow.keras import layers


    class SharedNormCell(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.state_size = units
            self.norm = layers.BatchNormalization()  # expect: BN012 warning
            self.kernel = layers.Dense(units)
            self.recurrent = layers.Dense(units)

        def call(self, inputs, states):
            x = self.norm(self.kernel(inputs))
            h = self.norm(self.recurrent(states[0]))
            return x + h, [x + h]
    """
    assert_findings(source, "BN012")
    [finding] = lint(source, "BN012")
    assert finding.fix is not None and "fix_refused" not in finding.extra
    assert "self.norm = layers.LayerNormalization()" in fixed_text(source, select=["BN012"])


def test_a_bn_helper_shared_with_a_cnn_gets_no_fix():
    # The helper's BN also normalizes conv features elsewhere, where BN is right.
    source = """
    import keras
    from keras import layers


    def norm():
        return layers.BatchNormalization()  # expect: BN012 warning


    class HelperCell(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.state_size = units
            self.recurrent = layers.Dense(units)
            self.norm = norm()

        def call(self, inputs, states):
            h = self.norm(self.recurrent(states[0]) + inputs)
            return h, [h]


    def build_cnn():
        inputs = keras.Input((32, 32, 3))
        x = layers.Conv2D(16, 3, use_bias=False)(inputs)
        x = norm()(x)
        return keras.Model(inputs, layers.ReLU()(x))
    """
    assert_findings(source, "BN012")
    [finding] = lint(source, "BN012")
    assert finding.fix is None and "shared" in finding.extra["fix_refused"]


def test_a_tf1_batch_normalization_call_in_a_cell_is_reported_but_not_swapped():
    source = """
    import tensorflow as tf


    class Tf1StyleCell(tf.keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.state_size = units
            self.recurrent = tf.keras.layers.Dense(units)

        def call(self, inputs, states, training=False):
            h = self.recurrent(states[0])
            h = tf.compat.v1.layers.batch_normalization(h, training=training)  # expect: BN012 warning
            return tf.tanh(h + inputs), [h]
    """
    assert_findings(source, "BN012")
    outcome = fix(source, select=["BN012"])
    assert not outcome.changed
    [refused] = [d for d in outcome.remaining if d.code == "BN012"]
    assert "function" in refused.extra["fix_refused"]
