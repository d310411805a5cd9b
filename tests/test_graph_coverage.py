"""The graph sees the BN layers a reader sees: layer namespaces handed around, default-guarded
branches, loop-carried tensors. Each case builds the real graph from real LibCST parsing."""
from __future__ import annotations

from lintutil import findings, graphs


def _ops(source: str) -> list[str]:
    return [n.op for g in graphs(source) for n in g.nodes if n.op not in ("Input", "Unknown")]


def test_submodules_from_a_factory_filled_in_through_global():
    source = """
    from . import get_submodules_from_kwargs

    backend = None
    layers = None
    models = None

    def conv_bn(x, filters):
        bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
        x = layers.Conv2D(filters, 3)(x)
        x = layers.BatchNormalization(axis=bn_axis)(x)
        return layers.Activation("relu")(x)

    def Net(input_shape=(32, 32, 3), **kwargs):
        global backend, layers, models
        backend, layers, models, utils = get_submodules_from_kwargs(kwargs)
        inputs = layers.Input(shape=input_shape)
        x = conv_bn(inputs, 16)
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        x = layers.BatchNormalization()(x)  # expect: BN001 error
        return models.Model(inputs, x)
    """
    assert _ops(source).count("BatchNormalization") == 2
    assert findings(source, "BN001") == [("BN001", 20, 9, "error")]


def test_an_object_standing_in_for_the_layers_module():
    source = """
    from tf_keras.src.layers import VersionAwareLayers

    layers = VersionAwareLayers()

    def stem(x):
        x = layers.Conv2D(32, 3, data_format="channels_first")(x)
        return layers.BatchNormalization()(x)
    """
    assert _ops(source) == ["Conv2D", "BatchNormalization"]
    assert [code for code, *_ in findings(source, "BN001")] == ["BN001"]


def test_layers_as_a_function_argument_and_a_class_attribute():
    source = """
    def block(x, layers):
        x = layers.Conv2D(8, 3)(x)
        return layers.BatchNormalization()(x)

    class Head:
        def __init__(self, layers_module):
            self.layers = layers_module

        def call(self, x):
            y = self.layers.Dense(4)(x)
            return self.layers.add([self.layers.BatchNormalization()(y), x])
    """
    assert _ops(source) == ["Conv2D", "BatchNormalization", "Dense", "BatchNormalization", "Add"]


def test_a_set_add_is_no_merge():
    source = """
    from keras import layers

    def block(x, seen):
        x = layers.BatchNormalization()(layers.Conv2D(8, 3)(x))
        seen.add(x)
        return x
    """
    assert "Add" not in _ops(source)


def test_a_branch_decided_only_by_a_parameter_default_runs_both_ways():
    source = """
    from keras import layers

    def residual_block(x, filters, use_pre_activation=False, momentum=0.1):
        if use_pre_activation:
            x = layers.BatchNormalization(momentum=momentum)(x)
            x = layers.Activation("relu")(x)
        y = layers.Conv2D(filters, 3, padding="same")(x)
        if not use_pre_activation:
            y = layers.BatchNormalization(momentum=momentum)(y)
        return layers.add([x, y])
    """
    [graph] = graphs(source)
    bns = [n for n in graph.nodes if n.op == "BatchNormalization"]
    assert len(bns) == 2
    # The default is still the value a rule sees.
    assert {n.known("momentum") for n in bns} == {0.1}


def test_a_caller_that_passes_the_argument_decides_the_branch():
    source = """
    from keras import layers

    def block(x, use_bn=False):
        x = layers.Conv2D(8, 3)(x)
        if use_bn:
            x = layers.BatchNormalization()(x)
        return x

    def net(x):
        return block(block(x, use_bn=True), use_bn=False)
    """
    [graph] = graphs(source)
    assert [n.op for n in graph.nodes if n.op != "Input"] == ["Conv2D", "BatchNormalization", "Conv2D"]


def test_a_branch_every_caller_decides_the_other_way_is_still_judged_once():
    # ResNet's shape: the module calls its builder for v1 only (preact=False); the v2 path,
    # taken by callers in other files, is in the builder's own trace. Its BN is judged
    # there; the layers both paths share keep the caller's single finding.
    source = """
    from keras import Input, Model, layers

    def block(x, preact):
        if preact:
            x = layers.BatchNormalization(momentum=0.1)(x)  # expect: BN006 error
        x = layers.Conv2D(8, 3)(x)  # expect: BN005 info
        if not preact:
            x = layers.BatchNormalization()(x)
        return x

    def resnet_v1():
        inputs = Input((32, 32, 3))
        return Model(inputs, block(inputs, False))
    """
    normalized = [n for g in graphs(source) for n in g.nodes if n.op == "BatchNormalization"]
    assert len({id(n.origin) for n in normalized}) == 2
    assert findings(source, "BN005", "BN006") == [("BN006", 6, 13, "error"), ("BN005", 7, 9, "info")]


def test_loop_carried_tensors_feed_the_next_iteration_of_an_unknown_loop():
    source = """
    from keras import layers

    def tower(x, depth):
        for _ in range(depth):
            x = layers.Conv2D(8, 3)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Dropout(0.5)(x)
        return x
    """
    [graph] = graphs(source)
    dropouts = [n for n in graph.nodes if n.op == "Dropout"]
    assert any(s.op == "Conv2D" for d in dropouts for s in graph.successors(d))
    assert [code for code, *_ in findings(source, "BN003")] == ["BN003"]


def test_a_block_returned_as_a_closure_is_traced_with_its_enclosing_values():
    source = """
    from keras import layers

    def bottleneck(filters, data_format="channels_first"):
        channel_axis = -1
        hidden = filters // 2

        def apply(x):
            x = layers.Conv2D(hidden, 1, data_format=data_format)(x)
            return layers.BatchNormalization(axis=channel_axis)(x)  # expect: BN001 error

        return apply
    """
    [graph] = graphs(source)
    assert [n.op for n in graph.nodes if n.op != "Input"] == ["Conv2D", "BatchNormalization"]
    assert findings(source, "BN001") == [("BN001", 10, 16, "error")]


def test_a_closure_applied_by_its_caller_sees_the_callers_arguments():
    source = """
    from keras import layers

    def block(axis):
        def apply(x):
            x = layers.Conv2D(8, 3, data_format="channels_first")(x)
            return layers.BatchNormalization(axis=axis)(x)
        return apply

    def net(x):
        return block(axis=1)(x)
    """
    assert findings(source, "BN001") == []
    [graph] = graphs(source)
    assert [n.known("axis") for n in graph.nodes if n.op == "BatchNormalization"] == [1]


def test_a_method_that_builds_a_model_is_an_entry_of_its_own():
    source = """
    import unittest
    from keras import layers

    class ModelTest(unittest.TestCase):
        def test_channels_first(self):
            inputs = layers.Input((3, 32, 32))
            x = layers.Conv2D(8, 3, data_format="channels_first")(inputs)
            x = layers.BatchNormalization()(x)  # expect: BN001 error
            self.assertEqual(x.shape[1], 8)

        @staticmethod
        def make_head(x):
            return layers.BatchNormalization()(layers.Dense(4)(x))
    """
    names = sorted(g.name for g in graphs(source))
    assert names == ["ModelTest.make_head", "ModelTest.test_channels_first"]
    assert [code for code, *_ in findings(source, "BN001")] == ["BN001"]


def test_a_helper_method_called_from_call_is_no_entry_of_its_own():
    source = """
    import keras
    from keras import layers

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(8, 3)
            self.norm = layers.BatchNormalization()

        def features(self, x):
            return self.norm(self.conv(x))

        def call(self, x):
            return self.features(x)
    """
    assert [g.name for g in graphs(source)] == ["Net"]


def test_a_project_class_that_forwards_attributes_stands_in_for_the_layers_module(tmp_path):
    from cliutil import bnlint, write

    write(tmp_path / "lib" / "__init__.py", "")
    write(tmp_path / "lib" / "layers.py", """\
        class VersionAwareLayers:
            def __getattr__(self, name):
                return lookup(name)
        """)
    write(tmp_path / "lib" / "net.py", """\
        from lib.layers import VersionAwareLayers

        layers = VersionAwareLayers()


        def stem(x):
            x = layers.Conv2D(32, 3, data_format="channels_first")(x)
            return layers.BatchNormalization()(x)
        """)
    run = bnlint("lib/net.py", "--no-cache", "--select", "BN001", cwd=tmp_path)
    assert run.returncode == 1 and "lib/net.py:8:12:" in run.stdout, run.stdout + run.stderr


def test_a_classmethod_that_builds_its_class_leaves_the_class_its_own_entry():
    source = """
    from keras import layers

    class Block(layers.Layer):
        def __init__(self, filters=8):
            super().__init__()
            self.conv = layers.Conv2D(filters, 3, data_format="channels_first")
            self.norm = layers.BatchNormalization()

        def call(self, x):
            return self.norm(self.conv(x))

        @classmethod
        def from_config(cls, config):
            return cls(**config)
    """
    assert "Block" in [g.name for g in graphs(source)]
    assert [code for code, *_ in findings(source, "BN001")] == ["BN001"]


def test_instances_that_hold_themselves_merge_after_an_undecided_branch(tmp_path):
    # Two instances of one class, each holding itself: comparing them field by field
    # would never end.
    from cliutil import bnlint, write

    path = write(tmp_path / "trainer.py", """\
        from keras import layers


        class Step:
            def __init__(self):
                self.owner = self


        def make_step(flag):
            if flag:
                step = Step()
            else:
                step = Step()
            return step, layers.BatchNormalization()
        """)
    run = bnlint(path, "--isolated", "--no-cache", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout == "All checks passed!\n", run.stdout + run.stderr
