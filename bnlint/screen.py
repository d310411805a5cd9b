"""A cheap look at a file's tokens before LibCST parses it.

LibCST's native parser recurses once per level of an expression tree and its
time grows faster than linearly with the length of one statement: thousands of
nested brackets, or an ``1 + 1 + …`` chain of thousands of terms, crash the
whole process (a segfault no ``except`` can catch) or keep it busy for minutes.
No model is written like that, so such a file is not parsed at all: this screen
reports why, and the engine turns that into one E902 finding on the file.

The screen is a regular-expression pass over the bytes (strings and comments
are skipped, so brackets inside them do not count). For each logical line it
tracks how deep an expression tree could be: every token of the element being
built at each bracket level, plus the levels themselves. That over-estimates
the real depth (``a, b`` resets the count; ``a + b`` does not), which is the
safe direction for a guard.

Most files are far inside the limits, and most of the tokens of a file are
words, operators and spaces between the brackets and commas that shape the
count. So a first pass reads each such stretch as one match and counts it as
many tokens as it has bytes (no token is shorter than a byte): every count it
keeps is at least the token pass's, so a file it clears is clear. Only a file
it does not clear gets the token pass, which says where the limit is crossed.
"""
from __future__ import annotations

import re

# Deeper than this, some expression could nest beyond what the parser survives.
MAX_NESTING = 400
# More tokens than this in one statement take LibCST seconds and grow quadratically.
MAX_STATEMENT_TOKENS = 60_000

# Strings, comments, line ends, brackets and separators: what both passes read alike.
_STRUCTURE = rb"""
    (?P<string>(?:[rRbBuUfF]{1,2})?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                |'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*"))
    |(?P<comment>\#[^\r\n]*)
    |(?P<continuation>\\\r?\n|\\\r)
    |(?P<newline>\r\n|\r|\n)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<separator>[,;:])
"""
_TOKEN = re.compile(
    _STRUCTURE + rb"""
    |(?P<space>[ \t\f]+)
    |(?P<word>\w+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# A stretch holds no byte that can start a string, a comment or a line end, nor a bracket or a
# separator: in the token pass it is words, operators and spaces only. A string prefix (``rb``)
# ends a stretch as a word; the string is read from its quote, where it ends the same.
_STRETCH = re.compile(
    _STRUCTURE + rb"""
    |(?P<stretch>[^'"\#\\\r\n()\[\]{},;:]+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def screen(data: bytes) -> str | None:
    """Why ``data`` must not be handed to the parser, or None when it may be."""
    if _first_excess(data, _STRETCH) is None:
        return None
    return _explain(data, _first_excess(data, _TOKEN))


def _first_excess(data: bytes, pattern: re.Pattern[bytes]) -> tuple[str, int] | None:
    """The first limit the counts cross and the offset where, or None when the file keeps within both."""
    element_tokens = [0]  # tokens of the current comma-separated element, per open bracket level
    nesting = 0  # sum of element_tokens: how deep the tree under construction could be
    statement_tokens = 0
    deepest = 0
    for match in pattern.finditer(data):
        kind = match.lastgroup
        if kind in ("space", "comment", "continuation"):
            continue
        if kind == "newline":
            if len(element_tokens) == 1:  # a logical line ends only outside brackets
                element_tokens[0] = nesting = statement_tokens = 0
            continue
        tokens = match.end() - match.start() if kind == "stretch" else 1
        statement_tokens += tokens
        if kind == "open":
            element_tokens[-1] += 1
            element_tokens.append(0)
            nesting += 2
        elif kind == "close":
            if len(element_tokens) > 1:
                nesting -= element_tokens.pop() + 1
        elif kind == "separator":
            if match.group() == b";" and len(element_tokens) == 1:
                nesting = element_tokens[0] = statement_tokens = 0
            else:
                nesting -= element_tokens[-1]
                element_tokens[-1] = 0
        else:
            element_tokens[-1] += tokens
            nesting += tokens
        if nesting > deepest:
            deepest = nesting
            if deepest > MAX_NESTING:
                return "nesting", match.start()
        if statement_tokens > MAX_STATEMENT_TOKENS:
            return "statement", match.start()
    return None


def _explain(data: bytes, excess: tuple[str, int] | None) -> str | None:
    if excess is None:
        return None
    limit, offset = excess
    line = data.count(b"\n", 0, offset) + 1
    if limit == "nesting":
        return (f"expression nested too deeply to analyse safely (near line {line}: more than "
                f"{MAX_NESTING} levels of brackets or operators); skipped")
    return (f"statement too large to analyse (near line {line}: more than "
            f"{MAX_STATEMENT_TOKENS:,} tokens in one statement); skipped")
