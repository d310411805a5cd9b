"""The LibCST frontend: every model style becomes the same LayerGraph."""
from __future__ import annotations

import textwrap

import libcst
import pytest

from bnlint.frontend import build_graphs
from bnlint.graph import DataFormat, LayerGraph, LayerNode
from lintutil import graphs


def layers_of(graph: LayerGraph) -> list[LayerNode]:
    """The graph's nodes without dangling placeholder inputs."""
    return [n for n in graph.nodes if not (n.op == "Input" and not graph.out_edges(n))]


def ops_of(graph: LayerGraph) -> list[str]:
    return [n.op for n in layers_of(graph)]


def chain(graph: LayerGraph) -> list[str]:
    """The ops of a single-path graph in tensor-flow order, checked edge by edge."""
    nodes = [n for n in layers_of(graph) if n.op != "Input"]
    for previous, node in zip(nodes, nodes[1:]):
        assert [p.id for p in graph.predecessors(node)] == [previous.id], (previous, node)
    return [n.op for n in nodes]


def only(source: str) -> LayerGraph:
    found = graphs(source)
    assert len(found) == 1, [g.name for g in found]
    return found[0]


def by_label(graph: LayerGraph, op: str) -> list[LayerNode]:
    return [n for n in graph.nodes if n.op == op]


CNN_OPS = ["Conv2D", "BatchNormalization", "Activation", "MaxPooling2D", "Flatten", "Dropout", "Dense",
           "Activation"]

SEQUENTIAL_LIST = """
import keras
from keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, input_shape=(28, 28, 1)),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(10, activation="softmax"),
])
"""

MODEL_ADD = """
from tensorflow import keras

model = keras.models.Sequential()
model.add(keras.layers.Conv2D(32, 3, input_shape=(28, 28, 1)))
model.add(keras.layers.BatchNormalization())
model.add(keras.layers.Activation("relu"))
model.add(keras.layers.MaxPooling2D())
model.add(keras.layers.Flatten())
model.add(keras.layers.Dropout(0.5))
model.add(keras.layers.Dense(10, activation="softmax"))
"""

FUNCTIONAL = """
import keras
from keras import layers

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation("relu")(x)
x = layers.MaxPooling2D()(x)
x = layers.Flatten()(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
"""

NESTED = """
import keras
from keras import layers

inputs = keras.Input(shape=(28, 28, 1))
outputs = layers.Dense(10, activation="softmax")(layers.Dropout(0.5)(layers.Flatten()(layers.MaxPooling2D()(
    layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(32, 3)(inputs)))))))
model = keras.Model(inputs=inputs, outputs=outputs)
"""

HELPER = """
import keras
from keras import layers


def conv_block(x, filters, kernel):
    x = layers.Conv2D(filters, kernel)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.MaxPooling2D()(x)


def head(x, classes, rate=0.5):
    x = layers.Flatten()(x)
    x = layers.Dropout(rate)(x)
    return layers.Dense(classes, activation="softmax")(x)


def build():
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, head(conv_block(inputs, 32, 3), 10))
"""

SUBCLASS = """
import keras
from keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(32, 3)
        self.bn = layers.BatchNormalization()
        self.act = layers.Activation("relu")
        self.pool = layers.MaxPooling2D()
        self.flat = layers.Flatten()
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(10, activation="softmax")

    def call(self, x, training=False):
        x = self.act(self.bn(self.conv(x), training=training))
        x = self.drop(self.flat(self.pool(x)), training=training)
        return self.out(x)
"""


@pytest.mark.parametrize(("source", "style"), [
    pytest.param(SEQUENTIAL_LIST, "sequential-list", id="sequential-list"),
    pytest.param(MODEL_ADD, "model-add", id="model-add"),
    pytest.param(FUNCTIONAL, "functional", id="functional"),
    pytest.param(NESTED, "functional", id="nested"),
    pytest.param(HELPER, "functional", id="helper-function"),
    pytest.param(SUBCLASS, "subclass", id="subclass"),
])
def test_every_style_gives_the_same_chain(source, style):
    graph = only(source)
    assert chain(graph) == CNN_OPS
    explicit = [n for n in graph.nodes if n.op != "Input" and not n.implicit]
    assert {n.style for n in explicit} == {style}
    final = [n for n in graph.nodes if n.op != "Input"][-1]
    assert graph.outputs == {final.id}


@pytest.mark.parametrize("source", [SEQUENTIAL_LIST, MODEL_ADD, FUNCTIONAL, NESTED, HELPER, SUBCLASS])
def test_arguments_and_ranks(source):
    graph = only(source)
    conv, bn, act, pool, flatten, dropout, dense, softmax = [n for n in graph.nodes if n.op != "Input"]
    assert conv.known("filters") == 32 and conv.known("kernel_size") == 3
    assert conv.data_format is DataFormat.CHANNELS_LAST
    assert act.known("activation") == "relu" and not act.implicit
    assert dropout.known("rate") == 0.5
    assert dense.known("units") == 10
    assert softmax.implicit and softmax.owner == dense.id and softmax.known("activation") == "softmax"
    assert [conv.rank, pool.rank, flatten.rank] == [4, 4, 2]
    if source is not SUBCLASS:  # the subclass's input shape is not written down
        assert [bn.rank, act.rank, dropout.rank, dense.rank] == [4, 4, 2, 2]


def test_input_node_carries_the_rank():
    graph = only(FUNCTIONAL)
    [inputs] = [n for n in graph.nodes if n.op == "Input"]
    assert inputs.rank == 4
    assert graph.successors(inputs)[0].op == "Conv2D"


def test_origin_is_the_constructor_call_in_each_style():
    for source, expected in [
        (SEQUENTIAL_LIST, "layers.BatchNormalization()"),
        (MODEL_ADD, "keras.layers.BatchNormalization()"),
        (FUNCTIONAL, "layers.BatchNormalization()"),
        (SUBCLASS, "layers.BatchNormalization()"),
    ]:
        module = libcst.parse_module(source)
        [graph] = build_graphs(module)
        [bn] = by_label(graph, "BatchNormalization")
        assert module.code_for_node(bn.origin) == expected


def test_implicit_activation_node():
    graph = only("""
    from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, activation="relu", data_format="channels_first")(x)
        x = layers.Dense(4, activation=None)(x)
        x = layers.Dense(4, activation="linear")(x)
        return layers.Dense(4, activation=keras.activations.swish)(x)
    """)
    assert chain(graph) == ["Conv2D", "Activation", "Dense", "Dense", "Dense", "Activation"]
    conv, relu = graph.nodes[1], graph.nodes[2]
    assert relu.implicit and relu.owner == conv.id and relu.known("activation") == "relu"
    assert relu.data_format is DataFormat.CHANNELS_FIRST and relu.rank == 4
    assert relu.origin is conv.origin
    swish = graph.nodes[-1]
    assert swish.implicit


@pytest.mark.parametrize("function", ["tf.nn.relu", "keras.activations.relu", "tf.keras.activations.relu"])
def test_implicit_activation_from_a_function_has_its_canonical_name(function):
    graph = only(f"""
    import keras
    import tensorflow as tf

    def block(x):
        return keras.layers.Conv2D(8, 3, activation={function})(x)
    """)
    assert chain(graph) == ["Conv2D", "Activation"]
    assert graph.nodes[-1].known("activation") == "relu"


@pytest.mark.parametrize("function", ["tf.nn.relu", "keras.activations.relu"])
def test_activation_layer_from_a_function_has_its_canonical_name(function):
    graph = only(f"""
    import keras
    import tensorflow as tf

    def block(x):
        return keras.layers.Activation({function})(x)
    """)
    assert graph.nodes[-1].known("activation") == "relu"


def test_layers_built_in_a_list_comprehension():
    graph = only("""
    import keras
    from keras import layers


    class Tower(keras.Model):
        def __init__(self):
            super().__init__()
            self.convs = [layers.Conv2D(8 * (i + 1), 3) for i in range(3)]
            self.norms = [layers.BatchNormalization() for _ in range(3)]

        def call(self, x):
            for conv, norm in zip(self.convs, self.norms):
                x = norm(conv(x))
            return x
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization"] * 3


def test_activation_function_calls_become_activation_nodes():
    graph = only("""
    import tensorflow as tf

    def block(x):
        x = tf.nn.relu(tf.keras.layers.Conv2D(8, 3)(x))
        return tf.keras.activations.sigmoid(x)
    """)
    assert chain(graph) == ["Conv2D", "Activation", "Activation"]
    assert [n.known("activation") for n in graph.nodes if n.op == "Activation"] == ["relu", "sigmoid"]


def test_unknown_values_stay_unknown():
    graph = only("""
    from keras import layers
    from config import some_function

    def block(x, filters, rate):
        x = layers.Conv2D(filters, 3, data_format=some_function())(x)
        x = layers.BatchNormalization(axis=some_function(), momentum=0.9)(x)
        return layers.Dropout(rate)(x)
    """)
    conv, bn, dropout = [n for n in graph.nodes if n.op != "Input"]
    assert conv.is_unknown("filters") and conv.known("filters") is None
    assert conv.data_format is DataFormat.UNKNOWN
    axis = bn.arg("axis")
    assert axis is not None and not axis.known and axis.expression == "some_function()"
    assert bn.known("axis") is None and bn.is_unknown("axis")
    assert bn.known("momentum") == 0.9
    assert bn.known("epsilon", 1e-3) == 1e-3 and not bn.is_unknown("epsilon")
    assert dropout.is_unknown("rate")


def test_imported_constants_are_unknown():
    graph = only("""
    from keras import layers
    from config import RATE, CENTER

    def block(x):
        x = layers.BatchNormalization(center=CENTER)(x)
        return layers.Dropout(RATE)(x)
    """)
    [bn] = by_label(graph, "BatchNormalization")
    [dropout] = by_label(graph, "Dropout")
    assert bn.is_unknown("center") and bn.known("center") is None
    assert dropout.is_unknown("rate") and dropout.known("rate") is None


def test_splatted_keywords_make_absent_arguments_unknown():
    graph = only("""
    from keras import layers

    def block(x, **bn_kwargs):
        return layers.BatchNormalization(**bn_kwargs)(x)
    """)
    [bn] = by_label(graph, "BatchNormalization")
    assert bn.unknown_kwargs
    assert bn.known("scale", True) is None and bn.is_unknown("scale")


def test_known_splatted_dict_is_expanded():
    graph = only("""
    from keras import layers

    BN_KWARGS = {"axis": 1, "momentum": 0.9}

    def block(x):
        return layers.BatchNormalization(**BN_KWARGS)(x)
    """)
    [bn] = by_label(graph, "BatchNormalization")
    assert bn.known("axis") == 1 and bn.known("momentum") == 0.9 and not bn.unknown_kwargs


def test_helper_function_binds_constants():
    graph = only("""
    from keras import layers

    AXIS = 1

    def conv_bn(x, filters, data_format, momentum=0.99, axis=AXIS):
        x = layers.Conv2D(filters, 3, data_format=data_format)(x)
        return layers.BatchNormalization(axis=axis, momentum=momentum)(x)

    def build(inputs):
        x = conv_bn(inputs, 16, "channels_first")
        return conv_bn(x, filters=32, data_format="channels_last", momentum=0.9, axis=-1)
    """)
    convs = by_label(graph, "Conv2D")
    bns = by_label(graph, "BatchNormalization")
    assert [c.known("filters") for c in convs] == [16, 32]
    assert [c.data_format for c in convs] == [DataFormat.CHANNELS_FIRST, DataFormat.CHANNELS_LAST]
    assert [(b.known("axis"), b.known("momentum")) for b in bns] == [(1, 0.99), (-1, 0.9)]
    assert graph.name == "build"
    assert chain(graph) == ["Conv2D", "BatchNormalization", "Conv2D", "BatchNormalization"]


def test_helper_traced_by_a_caller_is_not_a_model_of_its_own():
    names = [g.name for g in graphs(HELPER)]
    assert names == ["build"]


def test_uncalled_builder_functions_are_models():
    names = [g.name for g in graphs("""
    from keras import layers

    def encoder(x):
        return layers.BatchNormalization()(layers.Conv2D(8, 3)(x))

    def decoder(x):
        return layers.Conv2DTranspose(8, 3)(x)
    """)]
    assert names == ["encoder", "decoder"]


def test_loop_over_literal_list_is_unrolled():
    graph = only("""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3))
    x = inputs
    for filters, rate in [(32, 0.1), (64, 0.2), (128, 0.3)]:
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Dropout(rate)(x)
    model = keras.Model(inputs, x)
    """)
    assert chain(graph) == ["Conv2D", "Activation", "BatchNormalization", "Dropout"] * 3
    assert [n.known("filters") for n in by_label(graph, "Conv2D")] == [32, 64, 128]
    assert [n.known("rate") for n in by_label(graph, "Dropout")] == [0.1, 0.2, 0.3]
    # One constructor expression, three applications: the nodes share the origin.
    assert len({id(n.origin) for n in by_label(graph, "BatchNormalization")}) == 1


def test_loop_over_range_and_enumerate():
    graph = only("""
    from keras import layers

    def build(x):
        for i in range(3):
            x = layers.Conv2D(16 * (i + 1), 3)(x)
        for i, width in enumerate([8, 4]):
            x = layers.Dense(width, name=f"fc{i}")(x)
        return x
    """)
    assert [n.known("filters") for n in by_label(graph, "Conv2D")] == [16, 32, 48]
    assert [n.known("units") for n in by_label(graph, "Dense")] == [8, 4]


def test_power_operator_is_evaluated():
    graph = only("""
    from keras import layers

    def build(x):
        for i in range(3):
            x = layers.Conv2D(64 * 2 ** i, 3, strides=2 ** 1)(x)
        return x
    """)
    assert [n.known("filters") for n in by_label(graph, "Conv2D")] == [64, 128, 256]
    assert by_label(graph, "Conv2D")[0].known("strides") == 2


def test_sequential_built_in_a_loop():
    graph = only("""
    import keras
    from keras import layers

    model = keras.Sequential()
    model.add(keras.Input(shape=(32, 32, 3)))
    for filters in [16, 32]:
        model.add(layers.Conv2D(filters, 3))
        model.add(layers.BatchNormalization())
        model.add(layers.ReLU())
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization", "ReLU"] * 2
    assert {n.style for n in graph.nodes if n.op != "Input"} == {"model-add"}
    assert by_label(graph, "Conv2D")[0].rank == 4


def test_functional_branches_and_merge_edges():
    graph = only("""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 16))
    a = layers.Conv2D(16, 1)(inputs)
    b = layers.Conv2D(16, 3, padding="same")(inputs)
    merged = layers.concatenate([a, b], axis=-1)
    total = layers.Add()([merged, merged])
    model = keras.Model(inputs, total)
    """)
    [inputs] = by_label(graph, "Input")
    a, b = by_label(graph, "Conv2D")
    [concat] = by_label(graph, "Concatenate")
    [add] = by_label(graph, "Add")
    assert [p.id for p in graph.predecessors(a)] == [inputs.id] == [p.id for p in graph.predecessors(b)]
    assert [(e.source, e.slot) for e in graph.in_edges(concat)] == [(a.id, 0), (b.id, 1)]
    assert concat.known("axis") == -1
    assert [(e.source, e.slot) for e in graph.in_edges(add)] == [(concat.id, 0), (concat.id, 1)]
    assert graph.outputs == {add.id}


def test_merge_edges_carry_the_argument_expression():
    source = """
    from keras import layers

    def block(up, skip):
        return layers.concatenate([layers.UpSampling2D()(up), skip])
    """
    module = libcst.parse_module(textwrap.dedent(source))
    [graph] = build_graphs(module)
    [concat] = by_label(graph, "Concatenate")
    origins = [module.code_for_node(e.origin) for e in graph.in_edges(concat)]
    assert origins == ["layers.UpSampling2D()(up)", "skip"]


def test_tensor_arithmetic():
    graph = only("""
    from keras import layers

    def block(x):
        a = layers.Conv2D(8, 3)(x)
        b = layers.Conv2D(8, 1)(x)
        c = a + b
        d = a - b
        return c * 0.5, d * d
    """)
    assert [n.op for n in graph.nodes if n.op not in ("Input",)] == [
        "Conv2D", "Conv2D", "Add", "Subtract", "Scale", "Multiply"]


def test_subclass_uses_call_order_not_init_order():
    graph = only("""
    import keras
    from keras import layers


    class Block(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization(axis=1)
            self.act = layers.ReLU()
            self.conv = layers.Conv2D(8, 3, data_format="channels_first")

        def call(self, x):
            return self.act(self.bn(self.conv(x)))
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization", "ReLU"]
    [bn] = by_label(graph, "BatchNormalization")
    assert bn.known("axis") == 1 and bn.style == "subclass"
    assert graph.name == "Block"


def test_subclass_layer_used_by_a_functional_model_is_traced_into():
    found = graphs("""
    import keras
    from keras import layers


    class ConvBN(layers.Layer):
        def __init__(self, filters, data_format="channels_last"):
            super().__init__()
            self.conv = layers.Conv2D(filters, 3, data_format=data_format)
            self.bn = layers.BatchNormalization()

        def call(self, x):
            return self.bn(self.conv(x))


    def build():
        inputs = keras.Input(shape=(3, 32, 32))
        x = ConvBN(16, data_format="channels_first")(inputs)
        x = layers.ReLU()(x)
        return keras.Model(inputs, x)
    """)
    assert [g.name for g in found] == ["build"]
    graph = found[0]
    assert chain(graph) == ["Conv2D", "BatchNormalization", "ReLU"]
    assert by_label(graph, "Conv2D")[0].data_format is DataFormat.CHANNELS_FIRST


def test_undecided_if_runs_both_branches():
    graph = only("""
    from keras import layers

    def block(x, use_bn):
        x = layers.Conv2D(8, 3)(x)
        if use_bn:
            x = layers.BatchNormalization()(x)
        else:
            x = layers.LayerNormalization()(x)
        return layers.ReLU()(x)
    """)
    [bn] = by_label(graph, "BatchNormalization")
    [ln] = by_label(graph, "LayerNormalization")
    [relu] = by_label(graph, "ReLU")
    assert bn.conditional and ln.conditional and not relu.conditional
    assert sorted(p.op for p in graph.predecessors(relu)) == ["BatchNormalization", "LayerNormalization"]


def test_names_bound_deep_inside_an_undecided_branch_are_merged():
    # A nested ``if`` and a loop inside the branch rebind ``x`` too: the merge after the
    # outer ``if`` must see those bindings as well as the branch's own.
    graph = only("""
    from keras import layers

    def block(x, use_bn, pre):
        x = layers.Conv2D(8, 3)(x)
        if use_bn:
            if pre:
                x = layers.BatchNormalization()(x)
            for _ in range(2):
                x = layers.Dropout(0.1)(x)
        return layers.ReLU()(x)
    """)
    first, second = by_label(graph, "Dropout")
    [relu] = by_label(graph, "ReLU")
    assert sorted(p.op for p in graph.predecessors(first)) == ["BatchNormalization", "Conv2D"]
    assert [p.id for p in graph.predecessors(second)] == [first.id]
    assert sorted(p.op for p in graph.predecessors(relu)) == ["Conv2D", "Dropout"]


def test_decided_if_runs_one_branch():
    graph = only("""
    from keras import layers

    USE_BN = True

    def block(x):
        x = layers.Conv2D(8, 3)(x)
        if USE_BN:
            x = layers.BatchNormalization()(x)
        else:
            x = layers.LayerNormalization()(x)
        return x
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization"]
    assert not graph.nodes[-1].conditional


@pytest.mark.parametrize(("setter", "expected"), [
    ("", DataFormat.CHANNELS_LAST),
    ('keras.backend.set_image_data_format("channels_first")', DataFormat.CHANNELS_FIRST),
    ('keras.config.set_image_data_format("channels_first")', DataFormat.CHANNELS_FIRST),
    ('keras.config.set_image_data_format(FMT)', DataFormat.CHANNELS_FIRST),
    ('keras.config.set_image_data_format(fmt_from_env())', DataFormat.UNKNOWN),
])
def test_global_data_format(setter, expected):
    graph = only(f"""
    import keras
    from keras import layers

    FMT = "channels_first"
    {setter}

    def block(x):
        x = layers.Conv2D(8, 3)(x)
        x = layers.MaxPooling2D()(x)
        return layers.Conv2D(8, 3, data_format="channels_last")(x)
    """)
    conv, pool, last = [n for n in graph.nodes if n.op != "Input"]
    assert conv.data_format is expected and pool.data_format is expected
    assert last.data_format is DataFormat.CHANNELS_LAST


def test_settings_data_format_is_the_default():
    source = """
    from keras import layers

    def block(x):
        return layers.Conv2D(8, 3)(x)
    """
    [graph] = build_graphs(libcst.parse_module(textwrap.dedent(source)), data_format=DataFormat.CHANNELS_FIRST)
    assert by_label(graph, "Conv2D")[0].data_format is DataFormat.CHANNELS_FIRST


@pytest.mark.parametrize(("layer", "rank"), [
    ("layers.Conv1D(8, 3)", 3),
    ("layers.Conv3D(8, 3)", 5),
    ("layers.GlobalAveragePooling2D()", 2),
    ("layers.GlobalAveragePooling2D(keepdims=True)", 4),
    ("layers.Flatten()", 2),
    ("layers.Reshape((4, 4, 2))", 4),
    ("layers.Reshape((32,))", 2),
    ("layers.Embedding(100, 8)", 3),
    ("layers.UpSampling2D()", 4),
])
def test_output_ranks(layer, rank):
    graph = only(f"""
    from keras import layers

    def block(x):
        return {layer}(x)
    """)
    node = [n for n in graph.nodes if n.op != "Input"][0]
    assert node.rank == rank


@pytest.mark.parametrize(("spelling", "op"), [
    ("layers.Convolution2D(8, 3)", "Conv2D"),
    ("layers.MaxPool2D()", "MaxPooling2D"),
    ("layers.SyncBatchNormalization()", "BatchNormalization"),
    ("layers.BatchNormalization(synchronized=True)", "BatchNormalization"),
    ("layers.Deconvolution2D(8, 3)", "Conv2DTranspose"),
    ("layers.GlobalAvgPool2D()", "GlobalAveragePooling2D"),
])
def test_alias_spellings(spelling, op):
    graph = only(f"""
    from keras import layers

    def block(x):
        return {spelling}(x)
    """)
    assert [n.op for n in graph.nodes if n.op != "Input"] == [op]


def test_try_except_import_fallback():
    graph = only("""
    try:
        from tensorflow.keras import layers
    except ImportError:
        from keras import layers

    def block(x):
        return layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization"]


def test_non_keras_code_gives_no_graph():
    assert graphs("""
    import numpy as np

    def normalize(x):
        return (x - np.mean(x)) / np.std(x)
    """) == []


def test_sequential_inside_functional_is_traced():
    graph = only("""
    import keras
    from keras import layers

    def build():
        stem = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization(), layers.ReLU()])
        inputs = keras.Input(shape=(32, 32, 3))
        x = stem(inputs)
        outputs = layers.Dense(1)(layers.Flatten()(x))
        return keras.Model(inputs, outputs)
    """)
    assert chain(graph) == ["Conv2D", "BatchNormalization", "ReLU", "Flatten", "Dense"]


def test_dict_items_of_a_known_dict_are_iterated():
    graphs = build_graphs(libcst.parse_module(textwrap.dedent("""
        from keras import layers

        def build(x):
            norms = {"first": layers.BatchNormalization(axis=1), "second": layers.BatchNormalization(axis=1)}
            for name, norm in norms.items():
                x = norm(x)
            return x
    """)))
    bns = [n for g in graphs for n in g.nodes if n.op == "BatchNormalization"]
    assert [n.known("axis") for n in bns] == [1, 1]
