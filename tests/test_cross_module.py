"""Helpers and custom layers imported from other modules of the same project are traced like local ones.

Every case writes a small package to disk and runs the real CLI on it.
"""
from __future__ import annotations

import json
from pathlib import Path

from cliutil import bnlint, write

from bnlint import api
from bnlint.config import Settings

BLOCKS = """\
from keras import layers


def conv_block(x, filters, data_format="channels_last"):
    x = layers.Conv2D(filters, 3, data_format=data_format, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


class DropConvBN(layers.Layer):
    def __init__(self, filters, rate=0.5):
        super().__init__()
        self.drop = layers.Dropout(rate)
        self.conv = layers.Conv2D(filters, 3, use_bias=False)
        self.norm = layers.BatchNormalization()

    def call(self, x):
        return self.norm(self.conv(self.drop(x)))
"""


def _package(tmp_path: Path, model: str, blocks: str = BLOCKS) -> Path:
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "blocks.py", blocks)
    return write(tmp_path / "pkg" / "model.py", model)


def _run(tmp_path: Path, *args: str) -> list[tuple[str, str, int]]:
    run = bnlint(*args, "--output-format", "json", cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    return sorted((d["path"], d["code"], d["line"]) for d in json.loads(run.stdout))


def test_a_relative_import_is_traced_with_the_callers_arguments(tmp_path):
    # The model file has no BatchNormalization of its own; its block's BN follows a
    # channels_first conv only because of the argument the model passes.
    _package(tmp_path, """\
        import keras
        from .blocks import conv_block


        def build():
            inputs = keras.Input((3, 64, 64))
            return keras.Model(inputs, conv_block(inputs, 16, data_format="channels_first"))
        """)
    assert _run(tmp_path, "pkg/model.py", "--no-cache", "--select", "BN001") == [("pkg/blocks.py", "BN001", 6)]


def test_absolute_and_aliased_imports_of_the_own_package(tmp_path):
    # The model file has a BN of its own, so it is parsed whatever its imports.
    _package(tmp_path, """\
        import keras
        import pkg.blocks as B
        from pkg.blocks import DropConvBN


        def build():
            inputs = keras.Input((64, 64, 3))
            x = B.conv_block(inputs, 16, data_format="channels_first")
            return keras.Model(inputs, keras.layers.BatchNormalization()(DropConvBN(8)(x)))
        """)
    found = _run(tmp_path, "pkg/model.py", "--no-cache", "--select", "BN001,BN003")
    assert found == [("pkg/blocks.py", "BN001", 6), ("pkg/blocks.py", "BN003", 13)]


def test_a_finding_in_a_helper_is_reported_once_when_both_files_are_linted(tmp_path):
    _package(tmp_path, """\
        import keras
        from .blocks import DropConvBN


        def build():
            inputs = keras.Input((64, 64, 3))
            return keras.Model(inputs, DropConvBN(8)(inputs))
        """)
    for jobs in ("1", "2"):
        assert _run(tmp_path, "pkg", "--no-cache", "-j", jobs, "--select", "BN003") == [("pkg/blocks.py", "BN003", 13)]


def test_an_import_cycle_and_a_missing_module_do_not_stop_the_trace(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "a.py", """\
        from keras import layers
        from .b import helper
        from .missing import nothing


        def block(x):
            x = layers.Conv2D(8, 3, data_format="channels_first")(x)
            return helper(x)
        """)
    write(tmp_path / "pkg" / "b.py", """\
        from keras import layers
        from .a import block


        def helper(x):
            return layers.BatchNormalization()(x)
        """)
    found = _run(tmp_path, "pkg", "--no-cache", "--select", "BN001")
    assert found == [("pkg/b.py", "BN001", 6)]


def test_a_changed_dependency_invalidates_the_cached_result(tmp_path):
    _package(tmp_path, """\
        import keras
        from .blocks import DropConvBN


        def build():
            inputs = keras.Input((64, 64, 3))
            return keras.Model(inputs, DropConvBN(8)(inputs))
        """)
    assert _run(tmp_path, "pkg/model.py", "--select", "BN003") == [("pkg/blocks.py", "BN003", 13)]
    write(tmp_path / "pkg" / "blocks.py", BLOCKS.replace("rate=0.5", "rate=0.1"))
    assert _run(tmp_path, "pkg/model.py", "--select", "BN003") == []


def test_a_script_folder_imports_its_sibling_module(tmp_path):
    write(tmp_path / "blocks.py", BLOCKS)
    write(tmp_path / "train.py", """\
        import keras
        from blocks import conv_block

        inputs = keras.Input((3, 64, 64))
        model = keras.Model(inputs, conv_block(inputs, 16, data_format="channels_first"))
        """)
    assert _run(tmp_path, "train.py", "--no-cache", "--select", "BN001") == [("blocks.py", "BN001", 6)]


def test_fix_leaves_the_imported_module_alone(tmp_path):
    model = _package(tmp_path, """\
        import keras
        from .blocks import conv_block


        def build():
            inputs = keras.Input((3, 64, 64))
            return keras.Model(inputs, conv_block(inputs, 16, data_format="channels_first"))
        """)
    before = (tmp_path / "pkg" / "blocks.py").read_bytes(), model.read_bytes()
    run = bnlint("pkg/model.py", "--fix", "--select", "BN001", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert ((tmp_path / "pkg" / "blocks.py").read_bytes(), model.read_bytes()) == before


def test_a_block_module_written_after_a_first_lint_in_the_same_process_is_seen(tmp_path):
    # The language server lints the model, then the author writes the block module beside it.
    settings = Settings(select=["BN001"])
    rules = api.select_rules(settings)
    write(tmp_path / "pkg" / "__init__.py", "")
    model = write(tmp_path / "pkg" / "model.py", """\
        import keras
        from .blocks import conv_block

        inputs = keras.Input((3, 64, 64))
        model = keras.Model(inputs, conv_block(inputs, 16, data_format="channels_first"))
        """)
    assert api.lint_file(model, settings, rules).diagnostics == []
    write(tmp_path / "pkg" / "blocks.py", BLOCKS)
    found = api.lint_file(model, settings, rules).diagnostics
    assert [(Path(d.path).name, d.code, d.line) for d in found] == [("blocks.py", "BN001", 6)]


def test_a_block_module_that_gains_bn_in_the_same_process_is_traced_again(tmp_path):
    # A module without BN is remembered as opaque, as it is on disk: rewritten, it is read afresh.
    settings = Settings(select=["BN001"])
    rules = api.select_rules(settings)
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "blocks.py", "def conv_block(x, filters, data_format=None):\n    return x\n")
    model = write(tmp_path / "pkg" / "model.py", """\
        import keras
        from keras import layers
        from .blocks import conv_block

        inputs = keras.Input((3, 64, 64))
        x = conv_block(inputs, 16, data_format="channels_first")
        model = keras.Model(inputs, layers.BatchNormalization(axis=1)(x))
        """)
    assert api.lint_file(model, settings, rules).diagnostics == []
    write(tmp_path / "pkg" / "blocks.py", BLOCKS)
    found = api.lint_file(model, settings, rules).diagnostics
    assert [(Path(d.path).name, d.code, d.line) for d in found] == [("blocks.py", "BN001", 6)]
