"""The fixer's layer edits, driven directly as any rule would: insert a layer, split an activation out, move a layer.

Each edit is planned against the real parsed file and applied by the real
transformer, in every way of writing a model; the result must re-parse and
compile, keep every comment, and read as the author's own code.
"""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from bnlint.diagnostics import Applicability, Edit, Fix
from bnlint.fixer.apply import ApplyChanges
from bnlint.fixer.plan import plan_fix
from bnlint.fixer.source import Refused, Source
from bnlint.frontend import build_graphs


def layers_of(graphs, op):
    """The source layers (origins) of ``op`` in trace order, each once."""
    seen, found = set(), []
    for graph in graphs:
        for node in graph.nodes:
            if node.op == op and not node.implicit and id(node.origin) not in seen:
                seen.add(id(node.origin))
                found.append(node.origin)
    return found


def edit(source: str, make) -> str:
    """``source`` with the edits ``make(graphs)`` returns applied; the result compiles."""
    module = cst.parse_module(textwrap.dedent(source))
    graphs = build_graphs(module)
    changes = plan_fix(Source(module, graphs), Fix("edit", Applicability.UNSAFE, tuple(make(graphs))))
    result = module.visit(ApplyChanges(changes, module)).code
    compile(result, "model.py", "exec")
    return result


def refused(source: str, make) -> str:
    module = cst.parse_module(textwrap.dedent(source))
    graphs = build_graphs(module)
    with pytest.raises(Refused) as info:
        plan_fix(Source(module, graphs), Fix("edit", Applicability.UNSAFE, tuple(make(graphs))))
    return str(info.value)


def insert_bn(placement="before-activation", op="Conv2D"):
    return lambda graphs: [Edit("insert-layer-after", layers_of(graphs, op)[0], value="BatchNormalization()",
                                placement=placement)]


def split_after_bn(graphs):
    return [Edit("split-activation", layers_of(graphs, "Conv2D")[0], anchor=layers_of(graphs, "BatchNormalization")[0])]


# ---------------------------------------------------------------- insert, before the activation

def test_insert_in_a_sequential_list_moves_the_activation_comment_to_the_activation():
    result = edit("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(
                8, 3,
                activation="relu",  # ReLU, as in the paper
                padding="same",
            ),
            layers.Flatten(),
        ])
        """, insert_bn())
    assert result == textwrap.dedent("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(
                8, 3,
                padding="same",
            ),
            layers.BatchNormalization(),
            layers.Activation("relu"),  # ReLU, as in the paper
            layers.Flatten(),
        ])
        """)


def test_insert_in_model_add_chain_moves_a_last_argument_comment():
    result = edit("""
        import keras
        from keras import layers
        model = keras.Sequential()
        model.add(layers.Conv2D(8, 3,
                                activation="relu"  # keep
                                ))
        model.add(layers.Flatten())
        """, insert_bn())
    assert result == textwrap.dedent("""
        import keras
        from keras import layers
        model = keras.Sequential()
        model.add(layers.Conv2D(8, 3
                                ))
        model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))  # keep
        model.add(layers.Flatten())
        """)


def test_insert_in_functional_code_reassigns_the_name():
    result = edit("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, activation="relu", name="c1")(inputs)  # first conv
            return layers.Flatten()(x)
        """, insert_bn())
    assert result == textwrap.dedent("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, name="c1")(inputs)  # first conv
            x = layers.BatchNormalization(name="c1_bn")(x)
            x = layers.Activation("relu", name="c1_relu")(x)
            return layers.Flatten()(x)
        """)


def test_new_layers_of_a_named_layer_get_names_of_their_own_unless_taken():
    result = edit("""
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, activation='elu', name='c1')(inputs)
            return layers.Flatten(name='c1_bn')(x)
        """, insert_bn())
    # The file's quotes; "c1_bn" is the Flatten's already, so the BN stays unnamed.
    assert "    x = layers.BatchNormalization()(x)\n    x = layers.Activation('elu', name='c1_elu')(x)\n" in result


def test_insert_in_a_helper_goes_into_the_helper_once():
    result = edit("""
        from keras import layers
        def block(x, f):
            x = layers.Conv2D(f, 3, activation="relu")(x)
            return x
        def build(inputs):
            x = block(inputs, 8)
            x = block(x, 16)
            return layers.Flatten()(x)
        """, insert_bn())
    assert result.count("BatchNormalization()") == 1
    assert "    x = layers.BatchNormalization()(x)\n    x = layers.Activation(\"relu\")(x)\n    return x\n" in result


def test_insert_in_a_subclassed_model_adds_the_attributes_and_their_calls():
    result = edit("""
        import keras
        from keras import layers
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.conv1 = layers.Conv2D(8, 3,
                                           activation="relu",  # why not
                                           padding="same")
                self.flat = layers.Flatten()

            def call(self, x):
                x = self.conv1(x)
                return self.flat(x)
        """, insert_bn())
    assert ("        self.conv1 = layers.Conv2D(8, 3,\n"
            "                                   padding=\"same\")\n"
            "        self.conv1_bn = layers.BatchNormalization()\n"
            "        self.conv1_act = layers.Activation(\"relu\")  # why not\n") in result
    assert "        x = self.conv1(x)\n        x = self.conv1_bn(x)\n        x = self.conv1_act(x)\n" in result


def test_positional_activation_of_a_dense_layer_is_split_out():
    result = edit("""
        from keras import layers
        def head(x):
            x = layers.Dense(64, "relu")(x)
            return layers.Dense(10)(x)
        """, insert_bn(op="Dense"))
    assert "    x = layers.Dense(64)(x)\n    x = layers.BatchNormalization()(x)\n" \
           "    x = layers.Activation(\"relu\")(x)\n" in result


def test_a_positional_activation_before_other_positional_arguments_is_refused():
    # Conv2D's activation is not among the positions the fixer knows, so Dense stands in:
    # a positional activation followed by a positional argument cannot simply be dropped.
    reason = refused("""
        from keras import layers
        def head(x):
            x = layers.Dense(64, "relu", True)(x)
            return layers.Dense(10)(x)
        """, insert_bn(op="Dense"))
    assert "passed by position" in reason


# ---------------------------------------------------------------- insert, after the activation

def test_insert_after_the_activation_keeps_it_in_the_call():
    result = edit("""
        import keras
        from keras import layers
        model = keras.Sequential([
            layers.Conv2D(8, 3, activation="relu"),
            layers.Flatten(),
        ])
        """, insert_bn("after-activation"))
    assert "    layers.Conv2D(8, 3, activation=\"relu\"),\n    layers.BatchNormalization(),\n    layers.Flatten(),\n" \
        in result
    assert "Activation(" not in result.replace('activation="relu"', "")


# ---------------------------------------------------------------- split an activation out, after another layer

def test_split_activation_after_a_bn_in_every_style():
    cases = {
        "list": ("""
            import keras
            from keras import layers
            model = keras.Sequential([
                layers.Conv2D(8, 3, activation="relu"),  # conv
                layers.BatchNormalization(),
                layers.Flatten(),
            ])
            """, "    layers.Conv2D(8, 3),  # conv\n    layers.BatchNormalization(),\n    layers.Activation(\"relu\"),\n"),
        "add": ("""
            import keras
            from keras import layers
            model = keras.Sequential()
            model.add(layers.Conv2D(8, 3, activation="relu"))
            model.add(layers.BatchNormalization())
            model.add(layers.Flatten())
            """, ("model.add(layers.Conv2D(8, 3))\nmodel.add(layers.BatchNormalization())\n"
                  "model.add(layers.Activation(\"relu\"))\nmodel.add(layers.Flatten())\n")),
        "functional": ("""
            from keras import layers
            def build(inputs):
                c = layers.Conv2D(8, 3, activation="relu")(inputs)
                b = layers.BatchNormalization()(c)
                return layers.Flatten()(b)
            """, ("    c = layers.Conv2D(8, 3)(inputs)\n    b = layers.BatchNormalization()(c)\n"
                  "    b = layers.Activation(\"relu\")(b)\n    return layers.Flatten()(b)\n")),
        "subclass": ("""
            import keras
            from keras import layers
            class Net(keras.Model):
                def __init__(self):
                    super().__init__()
                    self.conv = layers.Conv2D(8, 3, activation="relu")
                    self.bn = layers.BatchNormalization()

                def call(self, x):
                    x = self.conv(x)
                    x = self.bn(x)
                    return x
            """, "        self.bn = layers.BatchNormalization()\n        self.conv_act = layers.Activation(\"relu\")\n"),
    }
    for style, (source, expected) in cases.items():
        result = edit(source, split_after_bn)
        assert expected in result, style
        assert 'activation="relu"' not in result, style
    subclass = edit(cases["subclass"][0], split_after_bn)
    assert "        x = self.bn(x)\n        x = self.conv_act(x)\n        return x\n" in subclass


def test_split_activation_after_a_layer_of_another_function_is_refused():
    reason = refused("""
        from keras import layers
        def normalize(x):
            x = layers.BatchNormalization()(x)
            return x
        def build(inputs):
            x = layers.Conv2D(8, 3, activation="relu")(inputs)
            x = normalize(x)
            return layers.Flatten()(x)
        """, split_after_bn)
    assert "different functions" in reason


def test_split_activation_of_a_layer_without_one_changes_nothing():
    source = """
        from keras import layers
        def build(inputs):
            x = layers.Conv2D(8, 3, activation=None)(inputs)
            x = layers.BatchNormalization()(x)
            return x
        """
    assert edit(source, split_after_bn) == textwrap.dedent(source)


# ---------------------------------------------------------------- imports

def test_a_new_name_goes_into_a_parenthesized_import_in_order():
    result = edit("""
        from tensorflow.keras.layers import (
            Conv2D,
            Flatten,  # head
        )
        from tensorflow.keras.models import Sequential
        model = Sequential([Conv2D(8, 3, activation="relu"), Flatten()])
        """, insert_bn())
    assert result.startswith(textwrap.dedent("""
        from tensorflow.keras.layers import (
            Activation,
            BatchNormalization,
            Conv2D,
            Flatten,  # head
        )
        """))
    assert "Sequential([Conv2D(8, 3), BatchNormalization(), Activation(\"relu\"), Flatten()])" in result


def test_an_unsorted_import_gets_the_name_at_its_end():
    result = edit("""
        from keras.layers import Flatten, Conv2D, Activation
        from keras.models import Sequential
        model = Sequential([Conv2D(8, 3), Activation("relu"), Flatten()])
        """, insert_bn())
    assert result.startswith("\nfrom keras.layers import Flatten, Conv2D, Activation, BatchNormalization\n")


def test_a_removed_layer_takes_its_import_along_when_nothing_else_uses_it():
    result = edit("""
        from keras.layers import Conv2D, Flatten, SpatialDropout2D  # the layers
        from keras.layers import GaussianNoise
        from keras.models import Sequential
        model = Sequential([Conv2D(8, 3), SpatialDropout2D(0.2), Flatten()])
        """, lambda graphs: [Edit("remove-layer", layers_of(graphs, "SpatialDropout2D")[0])])
    # GaussianNoise was unused before the fix: it is the author's, and stays.
    assert result.startswith("\nfrom keras.layers import Conv2D, Flatten  # the layers\nfrom keras.layers import "
                             "GaussianNoise\n")
    assert "SpatialDropout2D" not in result


def test_an_import_statement_left_empty_goes_and_its_comments_stay():
    result = edit("""
        from keras.layers import Conv2D, Flatten
        # regularization
        from keras.layers import SpatialDropout2D  # only here
        from keras.models import Sequential
        model = Sequential([Conv2D(8, 3), SpatialDropout2D(0.2), Flatten()])
        """, lambda graphs: [Edit("remove-layer", layers_of(graphs, "SpatialDropout2D")[0])])
    assert result.startswith("\nfrom keras.layers import Conv2D, Flatten\n# regularization\n# only here\n"
                             "from keras.models import Sequential\n")


def test_a_name_still_read_elsewhere_keeps_its_import():
    result = edit("""
        from keras.layers import Conv2D, Flatten, SpatialDropout2D
        from keras.models import Sequential
        __all__ = ["SpatialDropout2D"]
        model = Sequential([Conv2D(8, 3), SpatialDropout2D(0.2), Flatten()])
        """, lambda graphs: [Edit("remove-layer", layers_of(graphs, "SpatialDropout2D")[0])])
    assert "from keras.layers import Conv2D, Flatten, SpatialDropout2D\n" in result
