"""A cheap look at a file's tokens before LibCST parses it.

LibCST's native parser recurses once per level of an expression tree and its
time grows faster than linearly with the length of one statement: thousands of
nested brackets, or an ``1 + 1 + …`` chain of thousands of terms, crash the
whole process (a segfault no ``except`` can catch) or keep it busy for minutes.
No model is written like that, so such a file is not parsed at all: this screen
reports why, and the engine turns that into one E902 finding on the file.

The screen is a single regular-expression pass over the bytes (strings and
comments are skipped, so brackets inside them do not count). For each logical
line it tracks how deep an expression tree could be: every token of the
element being built at each bracket level, plus the levels themselves. That
over-estimates the real depth (``a, b`` resets the count; ``a + b`` does not),
which is the safe direction for a guard.
"""
from __future__ import annotations

import re

# Deeper than this, some expression could nest beyond what the parser survives.
MAX_NESTING = 400
# More tokens than this in one statement take LibCST seconds and grow quadratically.
MAX_STATEMENT_TOKENS = 60_000

_TOKEN = re.compile(
    rb"""
    (?P<string>(?:[rRbBuUfF]{1,2})?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                |'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*"))
    |(?P<comment>\#[^\r\n]*)
    |(?P<continuation>\\\r?\n|\\\r)
    |(?P<newline>\r\n|\r|\n)
    |(?P<open>[(\[{])
    |(?P<close>[)\]}])
    |(?P<separator>[,;:])
    |(?P<space>[ \t\f]+)
    |(?P<word>\w+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def screen(data: bytes) -> str | None:
    """Why ``data`` must not be handed to the parser, or None when it may be."""
    element_tokens = [0]  # tokens of the current comma-separated element, per open bracket level
    nesting = 0  # sum of element_tokens: how deep the tree under construction could be
    statement_tokens = 0
    deepest = 0
    for match in _TOKEN.finditer(data):
        kind = match.lastgroup
        if kind in ("space", "comment", "continuation"):
            continue
        if kind == "newline":
            if len(element_tokens) == 1:  # a logical line ends only outside brackets
                element_tokens[0] = nesting = statement_tokens = 0
            continue
        statement_tokens += 1
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
            element_tokens[-1] += 1
            nesting += 1
        if nesting > deepest:
            deepest = nesting
            if deepest > MAX_NESTING:
                line = data.count(b"\n", 0, match.start()) + 1
                return (f"expression nested too deeply to analyse safely (near line {line}: more than "
                        f"{MAX_NESTING} levels of brackets or operators); skipped")
        if statement_tokens > MAX_STATEMENT_TOKENS:
            line = data.count(b"\n", 0, match.start()) + 1
            return (f"statement too large to analyse (near line {line}: more than "
                    f"{MAX_STATEMENT_TOKENS:,} tokens in one statement); skipped")
    return None
