"""The prefilter: a file is parsed only when its code, not its comments or docstrings, could fire a rule."""
from __future__ import annotations

import json

import pytest
from bnlint.rules import BY_CODE
from cliutil import bnlint, write

from bnlint.frontend.project import imports_could_fire
from bnlint.prefilter import BN_TOKENS, in_code, names_bn


@pytest.mark.parametrize("source", [
    "x = layers.BatchNormalization()(x)\n",
    "norm = 'batch_norm'\n",  # a factory's choice of layer, in a one-line string
    'label = "#"; bn = layers.BatchNormalization()\n',  # a # inside quotes starts no comment
    '"""A docstring."""\nbn = layers.BatchNormalization()\n',
])
def test_code_that_names_bn_passes(source: str) -> None:
    assert names_bn(source.encode())


@pytest.mark.parametrize("source", [
    "# BatchNormalization goes after the conv\nx = 1\n",
    "x = 1  # no BatchNormalization here\n",
    '"""Uses BatchNormalization between Conv2D and Activation."""\nx = 1\n',
    "def f():\n    '''A batch_norm flag.'''\n    return 1\n",
    "from keras import layers\n",
])
def test_comments_and_docstrings_do_not(source: str) -> None:
    assert not names_bn(source.encode())


@pytest.mark.parametrize("source", [
    "x = tf.compat.v1.layers.batch_normalization(x, training=is_training)\n",  # TF1's layer
    "from tensorflow.compat.v1.layers import batch_normalization\n",
    "L = tf.compat.v1.layers\ny = L.batch_normalization(x)\n",  # an alias of the layers module
    "y = conv_batch_norm_relu(x, 64)\n",  # a helper, perhaps from another module
    "y = blocks.batch_norm(x)\n",
    "block(x, norm=batch_norm)\n",  # a helper handed on
    "block(x, norm_type='sync_batch_norm')\n",  # a factory's choice, in a string
])
def test_lowercase_names_that_can_build_bn_pass(source: str) -> None:
    assert names_bn(source.encode())


@pytest.mark.parametrize("source", [
    "def block(x, use_batch_norm=True):\n    if use_batch_norm:\n        return norm(x)\n",  # a flag
    "cfg = dict(batch_norm_momentum=0.99, batch_norm_epsilon=1e-3)\n",  # settings
    "y = tf.nn.batch_normalization(x, mean, var, None, None, 1e-3)\n",  # the op on given statistics
    "y = ops.batch_normalization(x, mean, var, axis=-1)\n",
    "y = tf.compat.v1.nn.fused_batch_norm(x, scale, offset)\n",
    "def batch_normalization(x, mean, variance, axis):\n    return (x - mean) / variance\n",  # an op's definition
])
def test_lowercase_flags_ops_and_definitions_do_not(source: str) -> None:
    assert not names_bn(source.encode())


def test_tf1_layer_reached_through_the_lowercase_name_is_still_reported(tmp_path) -> None:
    write(tmp_path / "tf1_model.py", """
        import tensorflow as tf

        def model(x):
            x = tf.compat.v1.layers.conv2d(x, 32, 3)
            return tf.compat.v1.layers.batch_normalization(x)
    """)
    run = bnlint(".", "--isolated", "--no-cache", "--select", "BN014", "--output-format", "json", cwd=tmp_path)
    assert [d["code"] for d in json.loads(run.stdout)] == ["BN014"]


def test_a_token_counts_when_any_occurrence_is_code() -> None:
    assert in_code(b"# BatchNormalization\nlayers.BatchNormalization()\n", [b"BatchNormalization"])


def test_rule_screens_need_what_each_rule_starts_from() -> None:
    frozen = b"base = keras.applications.ResNet50()\nbase.trainable = False\n"
    assert BY_CODE["BN007"].could_fire(frozen)
    assert not BY_CODE["BN007"].could_fire(b"base = keras.applications.ResNet50()\n")
    assert not BY_CODE["BN004"].could_fire(b"y = ops.transpose(x)\nz = layers.Add()([x, y])\n")
    assert BY_CODE["BN004"].could_fire(b"u = layers.Conv2DTranspose(8, 2)(x)\nz = layers.concatenate([u, s])\n")
    assert not BY_CODE["BN015"].could_fire(b"with tf.GradientTape() as tape:\n    y = model(x)\n")


def test_a_file_naming_bn_only_in_comments_is_never_parsed(tmp_path) -> None:
    # A syntax error shows whether the parser ran: only the file whose code names BN gets E999.
    write(tmp_path / "comment.py", "# BatchNormalization is applied elsewhere\ndef broken(:\n")
    write(tmp_path / "code.py", "bn = layers.BatchNormalization()\ndef broken(:\n")
    run = bnlint("--isolated", "--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    assert sorted((f["path"].rsplit("/", 1)[-1], f["code"]) for f in json.loads(run.stdout)) == [
        ("code.py", "E999")]


def test_a_mutable_buffer_is_read_afresh_on_every_call() -> None:
    # The answers for the last text are kept by its identity: only immutable bytes may be.
    buffer = bytearray(b"x = layers.Dense(4)\n")
    assert not in_code(buffer, BN_TOKENS)
    buffer[:] = b"x = layers.BatchNormalization()\n"
    assert in_code(buffer, BN_TOKENS)


def test_each_token_is_answered_for_its_own_text() -> None:
    code, comment = b"bn = layers.BatchNormalization()\n", b"# BatchNormalization\n"
    for _ in range(2):
        assert in_code(code, BN_TOKENS) and not in_code(comment, BN_TOKENS)
        assert not in_code(code, [b"Dense"]) and in_code(code, [b"Dense", b"BatchNorm"])


@pytest.mark.parametrize("source, expected", [
    ('"""doc"""\nx = BatchNorm\n', True),
    ('"""doc\nBatchNorm"""\n', False),
    ("'''a''' \"\"\"b\nBatchNorm\"\"\" BatchNorm\n", True),  # both kinds of triple quote count
    ('""""BatchNorm"""\n', False),  # four quotes: a triple quote, then a quote inside the docstring
    ('x = """a""" + BatchNorm # """\nBatchNorm\n', True),
    ('"""a\n# BatchNorm\n"""\ny = """BatchNorm"""\n', False),
])
def test_docstrings_are_told_from_code_by_the_triple_quotes_before(source: str, expected: bool) -> None:
    assert in_code(source.encode(), [b"BatchNorm"]) is expected


BN_BLOCK = "from keras import layers\n\ndef conv_bn(x):\n    return layers.BatchNormalization()(layers.Conv2D(8, 3)(x))\n"


@pytest.mark.parametrize("layout, importer, expected", [
    # A script folder: what lies beside the script, imported absolutely.
    ({"blocks.py": BN_BLOCK}, "train.py", True),
    ({"blocks.py": "def conv_bn(x):\n    return x\n"}, "train.py", False),  # a sibling without BN
    ({"sub/__init__.py": BN_BLOCK}, "import_sub.py", True),
    ({"blocks2/blocks2.py": BN_BLOCK}, "import_blocks2.py", True),
    ({"sub/deep.py": BN_BLOCK}, "import_sub_deep.py", False),  # two levels down
    # A package: only relative imports count.
    ({"pkg/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/relative.py", True),
    ({"pkg/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/from_dot.py", True),
    ({"pkg/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/indented.py", True),
    ({"pkg/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/absolute.py", False),
    ({"pkg/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/quoted.py", False),  # no import line
    ({"pkg/__init__.py": "", "pkg/nested/nested.py": BN_BLOCK}, "pkg/nested_twice.py", True),
    ({"pkg/__init__.py": BN_BLOCK}, "pkg/from_dot_init.py", True),  # the package's own __init__
    ({"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/blocks.py": BN_BLOCK}, "pkg/sub/parent.py", False),
])
def test_the_import_check_follows_siblings_only(tmp_path, layout, importer, expected) -> None:
    importers = {
        "train.py": "from blocks import conv_bn\n",
        "import_sub.py": "import sub\n",
        "import_blocks2.py": "from blocks2 import blocks2\n",
        "import_sub_deep.py": "import sub.deep\n",
        "pkg/relative.py": "from .blocks import conv_bn\n",
        "pkg/from_dot.py": "from . import blocks\n",
        "pkg/indented.py": "def build():\n\tfrom  .blocks import conv_bn\n",
        "pkg/absolute.py": "import numpy\nfrom pkg.blocks import conv_bn\n",
        "pkg/quoted.py": "import numpy\nhelp = 'use: from .blocks import conv_bn'\n",
        "pkg/nested_twice.py": "from .nested import nested\n",
        "pkg/from_dot_init.py": "from . import helpers\n",
        "pkg/sub/parent.py": "from ..blocks import conv_bn\n",
    }
    for name, text in layout.items():
        write(tmp_path / name, text)
    path = write(tmp_path / importer, importers[importer] + "x = 1\n")
    assert imports_could_fire(str(path), path.read_bytes(), names_bn) is expected


def test_a_sibling_written_after_a_first_check_is_seen(tmp_path) -> None:
    # One process (the language server, a watch loop) checks the same file as its folder changes.
    write(tmp_path / "pkg" / "__init__.py", "")
    model = write(tmp_path / "pkg" / "model.py", "from .blocks import conv_bn\n")
    assert not imports_could_fire(str(model), model.read_bytes(), names_bn)
    write(tmp_path / "pkg" / "blocks.py", "def conv_bn(x):\n    return x\n")
    assert not imports_could_fire(str(model), model.read_bytes(), names_bn)
    write(tmp_path / "pkg" / "blocks.py", BN_BLOCK)
    assert imports_could_fire(str(model), model.read_bytes(), names_bn)
    (tmp_path / "pkg" / "blocks.py").unlink()
    assert not imports_could_fire(str(model), model.read_bytes(), names_bn)
