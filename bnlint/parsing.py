"""LibCST's parse, without re-checking every node the native parser built.

Each LibCST node validates itself when constructed (``CSTNode.__post_init__``):
right for a node a program builds, redundant for the million a parse builds from
text the parser has just accepted (LibCST's own comment there says as much). The
checks are about 8% of a parse (9.6 s against 8.8 s of CPU for the corpus's
prefiltered files), and the linter parses every file that passes its
prefilter, so the parse here skips them while it runs. The switch is the whole
process's for the length of one parse (the engine builds no other nodes then);
nodes built at any other time (the fixer's edits) are validated as before.
"""
from __future__ import annotations

import threading

import libcst as cst
from libcst._nodes.base import CSTNode

_VALIDATING = CSTNode.__post_init__
_LOCK = threading.Lock()


def _unchecked(self: CSTNode) -> None:
    """Stands in for ``CSTNode.__post_init__`` while a parse builds its nodes."""


def parse_module(source: bytes | str) -> cst.Module:
    """``cst.parse_module(source)``: the same tree, the same errors, without the node checks."""
    with _LOCK:  # two threads' parses must not restore the check in the wrong order
        CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
        try:
            return cst.parse_module(source)
        finally:
            CSTNode.__post_init__ = _VALIDATING  # type: ignore[method-assign]
