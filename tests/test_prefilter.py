"""The prefilter: a file is parsed only when its code, not its comments or docstrings, could fire a rule."""
from __future__ import annotations

import json

import pytest

from bnlint.prefilter import in_code, names_bn
from bnlint.rules import BY_CODE
from cliutil import bnlint, write


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
