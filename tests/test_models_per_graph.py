"""One graph per model: findings that do not depend on who builds a model, or what else is built beside it.

Each case runs the real CLI on a real file and reads its JSON findings.
"""
from __future__ import annotations

import json
from pathlib import Path

from cliutil import bnlint, write
from lintutil import graphs

DROPOUT_BUILDER = """\
from keras import Input, Model, layers


def build_model():
    inputs = Input((32, 32, 3))
    x = layers.Conv2D(16, 3)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv2D(16, 3)(x)
    x = layers.BatchNormalization()(x)
    return Model(inputs, x)
"""

# Two U-Nets in one file: the first normalizes every stage, the second none.
TWO_UNETS = """\
from keras import Input, Model, layers


def block(x, filters, bn=True):
    x = layers.Conv2D(filters, 3, padding="same")(x)
    if bn:
        x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def normalized_unet():
    inputs = Input((64, 64, 3))
    c1 = block(inputs, 16)
    c2 = block(layers.MaxPooling2D()(c1), 32)
    b = block(layers.MaxPooling2D()(c2), 64)
    u2 = layers.concatenate([layers.UpSampling2D()(b), c2])
    u1 = layers.concatenate([layers.UpSampling2D()(block(u2, 32)), c1])
    return Model(inputs, layers.Conv2D(1, 1)(u1))


def plain_unet():
    inputs = Input((64, 64, 3))
    c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(layers.MaxPooling2D()(c1))
    b = layers.Conv2D(64, 3, padding="same", activation="relu")(layers.MaxPooling2D()(c2))
    u2 = layers.concatenate([layers.UpSampling2D()(b), c2])
    u1 = layers.concatenate([layers.UpSampling2D()(u2), c1])
    return Model(inputs, layers.Conv2D(1, 1)(u1))
"""


def _findings(tmp_path: Path, source: str, *flags: str) -> list[tuple[str, int, str]]:
    path = write(tmp_path / "model.py", source)
    run = bnlint(path, "--no-cache", "--output-format", "json", *flags, cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    return sorted((d["code"], d["line"], d["severity"]) for d in json.loads(run.stdout))


def test_a_builder_called_under_main_keeps_its_findings(tmp_path):
    alone = _findings(tmp_path, DROPOUT_BUILDER, "--select", "BN003")
    with_main = _findings(tmp_path, DROPOUT_BUILDER + '\n\nif __name__ == "__main__":\n    build_model().summary()\n',
                          "--select", "BN003")
    assert alone == [("BN003", 7, "warning")]
    assert with_main == alone


def test_a_script_main_block_builds_its_model_once_with_every_finding_and_fix(tmp_path):
    # Under ``if __name__ == "__main__":`` the builder runs as in any script: the bias
    # finding that must hold in every use of the layer, and the dropout fix, both stay.
    full = ["--select", "BN003,BN005", "--output-format", "json"]
    main = '\n\nif __name__ == "__main__":\n    build_model().summary()\n'
    path = write(tmp_path / "script.py", DROPOUT_BUILDER + main)
    found = json.loads(bnlint(path, "--no-cache", *full, cwd=tmp_path).stdout)
    assert sorted((d["code"], d["line"], d["fix"] is not None) for d in found) == [
        ("BN003", 7, True), ("BN005", 8, True)]


def test_a_builder_called_from_an_undecided_branch_of_another_function_keeps_its_findings(tmp_path):
    caller = DROPOUT_BUILDER + "\n\ndef main(debug):\n    if debug:\n        return build_model()\n    return None\n"
    assert _findings(tmp_path, caller, "--select", "BN003") == [("BN003", 7, "warning")]


def test_two_models_built_in_one_entry_are_judged_apart(tmp_path):
    # Built side by side at module level, as a script would: the plain U-Net has no BN at all,
    # so its stages are info, and the normalized one lends it no "other stages".
    script = TWO_UNETS + "\n\nfirst = normalized_unet()\nsecond = plain_unet()\n"
    found = _findings(tmp_path, script, "--select", "BN004")
    assert found == [("BN004", 23, "info"), ("BN004", 24, "info")]
    assert _findings(tmp_path, TWO_UNETS + '\n\nif __name__ == "__main__":\n    normalized_unet()\n    plain_unet()\n',
                     "--select", "BN004") == found


def test_one_graph_per_model_with_its_own_layers_only():
    source = TWO_UNETS + "\n\nfirst = normalized_unet()\nsecond = plain_unet()\n"
    module_models = [g for g in graphs(source) if g.name in ("normalized_unet", "plain_unet")]
    assert sorted(g.name for g in module_models) == ["normalized_unet", "plain_unet"]
    for graph in module_models:
        bns = sum(n.op == "BatchNormalization" for n in graph.nodes)
        assert bns == (4 if graph.name == "normalized_unet" else 0)


def test_a_sequential_block_inside_a_model_stays_part_of_it():
    [graph] = graphs("""
    import keras
    from keras import layers

    def build():
        stem = keras.Sequential([layers.Conv2D(8, 3), layers.BatchNormalization()])
        inputs = keras.Input(shape=(32, 32, 3))
        outputs = layers.Dense(1)(layers.Flatten()(stem(inputs)))
        return keras.Model(inputs, outputs)
    """)
    assert [n.op for n in graph.nodes if n.op != "Input"] == ["Conv2D", "BatchNormalization", "Flatten", "Dense"]


def test_a_layer_class_defined_inside_a_function_is_traced(tmp_path):
    source = """\
    from keras import layers


    def make_block():
        class Block(layers.Layer):
            def __init__(self):
                super().__init__()
                self.conv = layers.Conv2D(8, 3, data_format="channels_first")
                self.norm = layers.BatchNormalization()

            def call(self, x):
                return self.norm(self.conv(x))

        return Block()
    """
    assert _findings(tmp_path, source, "--select", "BN001") == [("BN001", 9, "error")]


def test_a_model_class_instantiated_but_never_called_is_still_traced(tmp_path):
    source = """\
    import keras
    from keras import layers


    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(8, 3, data_format="channels_first")
            self.norm = layers.BatchNormalization()

        def call(self, x):
            return self.norm(self.conv(x))


    model = Net()
    model.compile("adam", "mse")
    """
    assert _findings(tmp_path, source, "--select", "BN001") == [("BN001", 9, "error")]
