"""The text screen that runs before any parse: can this file hold a finding at all?

Most files of a Keras project cannot: they build no BN layer. The screen looks for a
rule's tokens in the bytes, and counts an occurrence only where it is code. A
``BatchNormalization`` in a comment or a docstring (a docstring that explains a
``use_batchnorm`` flag, a comment naming the layer) builds nothing, and parsing and
tracing such a file costs as much as a model file. A token inside a one-line string
still counts: ``norm_layer="batch_norm"`` chooses a BN layer in a factory. The
lowercase ``batch_norm`` is judged by its context as well: the flags, settings and
numeric ops named like it (``use_batch_norm``, ``tf.nn.batch_normalization``) build
no layer, and the backends and op tests full of them were a sixth of what was parsed.

The test is deliberately conservative: an occurrence is skipped only when a ``#``
outside quotes comes before it on its line, when it lies between an odd and an even
triple quote of the file, or when its context says it cannot build a layer. It never
parses, so a file the screen lets through may still hold nothing, but a file it
rejects has the token only in comments, docstrings and such contexts.
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
        check = _CONTEXT_CHECKS.get(token)
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
                if triple_quotes % 2 == 0 and (check is None or check(data, start, start + len(token))):
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


_IDENTIFIER = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# Namespaces whose ``batch_normalization`` is the op on given statistics, not a layer:
# ``tf.nn``, ``keras.ops``, a backend, NumPy, JAX, PyTorch's functional API.
_OP_NAMESPACES = frozenset({b"nn", b"ops", b"knn", b"backend", b"K", b"math", b"np", b"jnp", b"jax", b"torch",
                            b"F", b"functional"})
_LAYER_NAMES = frozenset({b"batch_norm", b"batch_normalization"})


def _may_build_bn(data: bytes, start: int, end: int) -> bool:
    """Whether a lowercase ``batch_norm`` in code can build a BN layer.

    It can as TF1's ``layers.batch_normalization``, as a helper that is called
    (``conv_batch_norm(x)``, ``blocks.batch_norm(x)``) or handed on (``norm=batch_norm``),
    and as a string a factory may read (``norm_type="batch_norm"``). It cannot as a flag
    or a setting (``use_batch_norm``, ``batch_norm_momentum=``), as the op of a numeric
    namespace (``tf.nn.batch_normalization``, ``ops.batch_normalization``), or where a
    function of that name is defined (a backend's op). Files with only those are most of
    what the plain token let through: backends, ops and their tests.
    """
    while start > 0 and data[start - 1] in _IDENTIFIER:
        start -= 1
    while end < len(data) and data[end] in _IDENTIFIER:
        end += 1
    before = data[start - 1:start]
    if before in (b'"', b"'"):
        return True
    called = data[end:end + 64].lstrip(b" \t").startswith(b"(")
    line = data[data.rfind(b"\n", 0, start) + 1:start].rstrip()
    if called and (line.endswith(b"def") or line.endswith(b"class")):
        return False
    if before == b".":
        namespace = data[max(0, start - 65):start - 1]
        word = len(namespace)
        while word > 0 and namespace[word - 1] in _IDENTIFIER:
            word -= 1
        return namespace[word:] not in _OP_NAMESPACES
    return called or data[start:end] in _LAYER_NAMES


# Tokens whose every occurrence is judged by its context, after the comment and docstring test.
_CONTEXT_CHECKS = {b"batch_norm": _may_build_bn, b"batch_normalization": _may_build_bn}


def names_bn(data: bytes) -> bool:
    """True when the file's code names a BN layer or op."""
    return in_code(data, BN_TOKENS)
