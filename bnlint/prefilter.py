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

from collections.abc import Iterable

# What names a BN layer in code: Keras's and TF1's spellings, Sync and V2 variants included.
BN_TOKENS = (b"BatchNorm", b"batch_norm")


def in_code(data: bytes, tokens: Iterable[bytes]) -> bool:
    """True when one of ``tokens`` occurs in ``data`` outside comments and docstrings."""
    global _last
    scan = _last
    if scan.data is not data:
        scan = _Scan(data)
        if type(data) is bytes:  # immutable: the same object always holds the same text
            _last = scan
    found = scan.found
    for token in tokens:
        hit = found.get(token)
        if hit is None:
            hit = found[token] = scan.in_code(token)
        if hit:
            return True
    return False


class _Scan:
    """What is known of one text. Every rule asks about the same file in turn, most with the
    same BN tokens, and each question is a search of the whole file; the answers are kept
    for the last text asked about (held here, so no other object can take its identity)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.found: dict[bytes, bool] = {}

    def in_code(self, token: bytes) -> bool:
        if token[:1] in (b'"', b"'"):
            raise ValueError(f"a prefilter token starts with a quote: {token!r}")
        data = self.data
        triple_quotes = 0  # before ``counted``
        counted = 0
        start = data.find(token)
        while start != -1:
            line_start = data.rfind(b"\n", 0, start) + 1
            if not _commented(data[line_start:start]):
                # No triple quote spans ``start`` (a token starts with no quote), so counts of
                # the stretches between occurrences add up to the count before this one.
                triple_quotes += data.count(b'"""', counted, start) + data.count(b"'''", counted, start)
                counted = start
                if triple_quotes % 2 == 0:
                    return True
            start = data.find(token, start + len(token))
        return False


_last = _Scan(b"")


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
