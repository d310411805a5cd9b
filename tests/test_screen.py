"""The screen before the parse: the limits hold to the token, and the quick pass that clears most
files never clears one the token pass would refuse."""
from __future__ import annotations

import random

import pytest

from bnlint import screen as screen_module
from bnlint.screen import MAX_NESTING, MAX_STATEMENT_TOKENS, screen


def chain(terms: int) -> bytes:
    """``x = 1+1+…``: as deep as it has tokens (no comma resets the count)."""
    return b"import keras\nx = " + b"+".join([b"1"] * terms) + b"\n"


def test_an_operator_chain_is_refused_one_token_past_the_limit() -> None:
    # ``x``, ``=`` and 2n-1 tokens of the chain: 401 tokens deep for n = 200.
    assert screen(chain(199)) is None  # longer in bytes than the limit: only the token pass clears it
    assert screen(chain(200)) == (
        f"expression nested too deeply to analyse safely (near line 2: more than {MAX_NESTING} levels "
        "of brackets or operators); skipped")


def test_a_statement_is_refused_one_token_past_the_limit() -> None:
    # ``T``, ``=``, ``[``, n numbers, n-1 commas and ``]``: 2n + 3 tokens.
    def table(numbers: int) -> bytes:
        return b"import keras\n\n\nT = [" + b",".join([b"7"] * numbers)

    limit = (MAX_STATEMENT_TOKENS - 3) // 2
    assert screen(table(limit) + b"]\n") is None
    assert screen(table(limit + 1) + b"]\n") == (
        f"statement too large to analyse (near line 4: more than {MAX_STATEMENT_TOKENS:,} tokens in "
        "one statement); skipped")


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    deep = b"(" * (MAX_NESTING + 10)
    for hidden in (b"s = '" + deep + b"'\n", b"s = rb'" + deep + b"'\n", b"# " + deep + b"\n",
                   b's = f"""\n' + deep + b'\n"""\n', b"s = 1  \\\n# " + deep + b"\n"):
        assert screen(hidden) is None, hidden
    assert screen(b"s = 'unterminated\n" + deep + b"\n") is not None


PIECES = [b"(", b")", b"[", b"]", b"{", b"}", b",", b";", b":", b" ", b"\t", b"\n", b"\r\n", b"\r", b"\\\n",
          b"\\", b"#", b"x", b"rb", b"f", b"1", b"+", b"'", b'"', b"'''", b'"""', b"ab", b"=", b"\xff", b"b'"]


@pytest.mark.parametrize("nesting, statement", [(12, 40), (20, 10_000), (400, 25)])
def test_the_quick_pass_clears_no_text_the_token_pass_refuses(monkeypatch, nesting, statement) -> None:
    monkeypatch.setattr(screen_module, "MAX_NESTING", nesting)
    monkeypatch.setattr(screen_module, "MAX_STATEMENT_TOKENS", statement)
    rng = random.Random(nesting * statement)
    refused = 0
    for _ in range(4000):
        text = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 100)))
        exact = screen_module._first_excess(text, screen_module._TOKEN)
        refused += exact is not None
        if exact is not None:
            assert screen_module._first_excess(text, screen_module._STRETCH) is not None, text
    assert refused > 100  # the limits are low enough for the property to be tested
