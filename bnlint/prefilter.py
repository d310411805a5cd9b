"""The text screen that runs before any parse: can this file hold a finding at all?

Most files of a Keras project cannot: they build no BN layer. The screen looks for a
rule's tokens in the bytes, and counts an occurrence only where it is code. A
``BatchNormalization`` in a comment or a docstring (a docstring that explains a
``use_batchnorm`` flag, a comment naming the layer) builds nothing, and parsing and
tracing such a file costs as much as a model file. A token inside a one-line string
still counts: ``norm_layer="batch_norm"`` chooses a BN layer in a factory.

The test is deliberately conservative: an occurrence is skipped only when a ``#``
outside quotes comes before it on its line, or when it lies between an odd and an even triple quote
of the file. It never parses, so a file the screen lets through may still hold
nothing, but a file it rejects has the token only in comments and docstrings.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

# What names a BN layer in code: Keras's and TF1's spellings, Sync and V2 variants included.
BN_TOKENS = (b"BatchNorm", b"batch_norm")

_TRIPLE_QUOTE = re.compile(rb'"""|\'\'\'')


def in_code(data: bytes, tokens: Iterable[bytes]) -> bool:
    """True when one of ``tokens`` occurs in ``data`` outside comments and docstrings."""
    triple_quotes: list[int] | None = None
    for token in tokens:
        start = data.find(token)
        while start != -1:
            line_start = data.rfind(b"\n", 0, start) + 1
            if not _commented(data[line_start:start]):
                if triple_quotes is None:
                    triple_quotes = [m.start() for m in _TRIPLE_QUOTE.finditer(data)]
                if bisect.bisect(triple_quotes, start) % 2 == 0:
                    return True
            start = data.find(token, start + len(token))
    return False


def _commented(before: bytes) -> bool:
    """Whether the line up to an occurrence holds a ``#`` outside quotes (``"#"`` is no comment)."""
    hash_at = before.find(b"#")
    while hash_at != -1:
        head = before[:hash_at]
        if head.count(b'"') % 2 == 0 and head.count(b"'") % 2 == 0:
            return True
        hash_at = before.find(b"#", hash_at + 1)
    return False


def names_bn(data: bytes) -> bool:
    """True when the file's code names a BN layer or op."""
    return in_code(data, BN_TOKENS)
