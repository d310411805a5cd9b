"""The engine's parse skips LibCST's node checks only while it parses."""
from __future__ import annotations

import libcst as cst
import pytest

from bnlint.parsing import parse_module

SOURCE = b"import keras\n\nx = keras.layers.BatchNormalization(axis=-1)  # keep\n"


def test_same_tree_as_libcst():
    tree = parse_module(SOURCE)
    assert tree.code.encode() == SOURCE
    assert tree.deep_equals(cst.parse_module(SOURCE))


def test_nodes_built_after_a_parse_are_checked_again():
    parse_module(SOURCE)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")  # an invalid identifier: the check must be back


def test_a_syntax_error_still_raises_and_restores_the_check():
    with pytest.raises(cst.ParserSyntaxError):
        parse_module(b"def broken(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
