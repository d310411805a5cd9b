"""Suppression comments, skip-file, per-file-ignores and unused-suppression (BN900)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bnlint.api import lint_source, select_rules
from bnlint.config import PerFileIgnore, Settings
from bnlint.suppress import _comments_by_line, directives, matches_path, skips_file

from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

HEAD = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
"""
# The BatchNormalization call sits on line 5.


def lint(source: str, **settings: object) -> list[tuple[str, int]]:
    config = Settings(**settings)  # type: ignore[arg-type]
    result = lint_source("model.py", source.encode(), config, select_rules(config))
    assert result.error is None
    return [(d.code, d.line) for d in result.diagnostics]


def bn_line(comment: str) -> str:
    return HEAD + f"    x = layers.BatchNormalization()(x){comment}\n    return x\n"


def test_the_unsuppressed_model_has_the_finding() -> None:
    assert lint(bn_line("")) == [("BN001", 5)]


@pytest.mark.parametrize("comment", [
    "  # noqa: BN001",
    "  # noqa:BN001",
    "  # NOQA: bn001",
    "  # noqa: BN003, BN001",
    "  # noqa: BN003 BN001",
    "  # noqa: BN00",
    "  # noqa: BN",
    "  # noqa",
    "  # noqa: BN001 -- deliberate, the data is channels_last at runtime",
    "  # type: ignore  # noqa: BN001",
    "  # bnlint: ignore[BN001]",
    "  # bnlint: ignore[BN003,BN001]",
    "  # bnlint: ignore[BN003, BN001]",
    "  # bnlint:ignore[BN00]",
])
def test_directive_suppresses(comment: str) -> None:
    assert lint(bn_line(comment)) == []


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_a_directive_holds_on_its_line_whatever_the_line_ends(newline: str) -> None:
    source = bn_line("  # noqa: BN001").replace("\n", newline)
    assert lint(bn_line("").replace("\n", newline)) == [("BN001", 5)]
    assert lint(source) == []


@pytest.mark.parametrize("comment", [
    "  # noqa: BN003",
    "  # noqa: E501",
    "  # bnlint: ignore[BN003]",
    "  # bnlint: ignore[]",
    "  # bnlint: ignore",
    "  # noqa BN003",  # no colon: a bare noqa ... followed by text, which is still a bare noqa
])
def test_directive_for_other_codes_does_not_suppress(comment: str) -> None:
    expected = [] if comment == "  # noqa BN003" else [("BN001", 5)]
    assert lint(bn_line(comment)) == expected


def test_noqa_inside_a_string_is_not_a_directive() -> None:
    source = HEAD + '    x = layers.BatchNormalization(name="# noqa: BN001")(x)\n    return x\n'
    assert lint(source) == [("BN001", 5)]


def test_directive_on_another_line_does_not_suppress() -> None:
    source = HEAD.replace("(inputs)\n", "(inputs)  # noqa: BN001\n") + "    x = layers.BatchNormalization()(x)\n"
    assert lint(source) == [("BN001", 5)]


@pytest.mark.parametrize("where", [5, 6, 7])
def test_any_line_of_a_multi_line_call_counts(where: int) -> None:
    lines = ["    x = layers.BatchNormalization(", "        momentum=0.9,", "    )(x)"]
    lines[where - 5] += "  # bnlint: ignore[BN001]"
    source = HEAD + "\n".join(lines) + "\n    return x\n"
    assert lint(source) == []
    assert lint(source.replace("  # bnlint: ignore[BN001]", "")) == [("BN001", 5)]


def test_skip_file() -> None:
    assert lint("# bnlint: skip-file\n" + bn_line("")) == []
    assert lint(bn_line("") + "\n    # bnlint: skip-file\n") == []


def test_skip_file_inside_a_string_or_after_code_does_not_skip() -> None:
    assert lint('"""\n# bnlint: skip-file\n"""\n' + bn_line("")) == [("BN001", 8)]
    assert skips_file(b'x = "# bnlint: skip-file"\n') is False
    assert skips_file(b"x = 1  # bnlint: skip-file\n") is False
    assert skips_file(b"# bnlint: skip-file\n") is True


def test_skip_file_works_on_a_file_that_does_not_parse() -> None:
    assert lint("# bnlint: skip-file\nx = layers.BatchNormalization(\n") == []


def test_parse_errors_are_never_suppressed() -> None:
    source = "from keras import layers\nx = layers.BatchNormalization(  # noqa\n"
    assert [code for code, _ in lint(source)] == ["E999"]
    broken = "from keras import layers\nx = layers.BatchNormalization()) # noqa: E999\n"
    assert [code for code, _ in lint(broken, select=["BN003"])] == ["E999"]
    everything = [PerFileIgnore("*", ("ALL",), Path.cwd())]
    assert [code for code, _ in lint(broken, per_file_ignores=everything)] == ["E999"]


# --- unused suppressions (BN900) -------------------------------------------------


def test_unused_suppressions_are_off_by_default_and_under_all() -> None:
    source = bn_line("  # noqa: BN001") + "y = 1  # noqa: BN003\n"
    assert lint(source) == []
    assert lint(source, select=["ALL"]) == []


def test_unused_suppression_reported_when_selected() -> None:
    source = bn_line("  # noqa: BN001") + "y = 1  # noqa: BN003\nz = 2  # bnlint: ignore[BN002, BN001]\n"
    assert lint(source, extend_select=["BN900"]) == [("BN900", 7), ("BN900", 8)]
    assert lint(source, select=["BN001", "BN900"]) == [("BN900", 8)]  # BN003/BN002 did not run


def test_partly_used_directive_names_the_unused_code() -> None:
    config = Settings(extend_select=["BN900"])
    result = lint_source("m.py", bn_line("  # noqa: BN001, BN003").encode(), config, select_rules(config))
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.name, diagnostic.line) == ("BN900", "unused-suppression", 5)
    assert diagnostic.message.endswith("`: no BN003 finding to suppress here")
    assert diagnostic.column == len("    x = layers.BatchNormalization()(x)  ") + 1


def test_bare_noqa_and_foreign_codes_are_never_unused() -> None:
    source = "y = 1  # noqa\nz = 2  # noqa: E501\n"
    assert lint(source, extend_select=["BN900"]) == []


def test_unknown_code_in_a_directive_is_reported() -> None:
    source = bn_line("  # noqa: BN001") + "y = 1  # bnlint: ignore[BN999]\n"
    config = Settings(extend_select=["BN900"])
    result = lint_source("m.py", source.encode(), config, select_rules(config))
    [diagnostic] = result.diagnostics
    assert diagnostic.line == 7 and "unknown code BN999" in diagnostic.message


def test_unused_report_in_a_file_the_prefilter_skips() -> None:
    assert lint("y = 1  # noqa: BN001\n", extend_select=["BN900"]) == [("BN900", 1)]


def test_unused_report_itself_can_be_ignored_per_file() -> None:
    ignore = [PerFileIgnore("model.py", ("BN900",), Path.cwd())]
    assert lint("y = 1  # noqa: BN001\n", extend_select=["BN900"], per_file_ignores=ignore) == []


# --- per-file-ignores ----------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("tests/*", "tests/a.py", True),
    ("tests/*", "tests/deep/a.py", True),
    ("tests/", "tests/deep/a.py", True),
    ("tests/*", "src/tests/a.py", False),
    ("**/tests/*", "src/tests/a.py", True),
    ("**/tests/*", "tests/a.py", True),
    ("a.py", "src/deep/a.py", True),
    ("*_test.py", "src/m_test.py", True),
    ("*_test.py", "src/m.py", False),
])
def test_per_file_glob(tmp_path: Path, pattern: str, path: str, hit: bool) -> None:
    assert matches_path(str(tmp_path / path), PerFileIgnore(pattern, ("BN001",), tmp_path)) is hit


def test_per_file_ignores_by_code_and_prefix() -> None:
    here = Path.cwd()
    assert lint(bn_line(""), per_file_ignores=[PerFileIgnore("model.py", ("BN001",), here)]) == []
    assert lint(bn_line(""), per_file_ignores=[PerFileIgnore("model.py", ("BN0",), here)]) == []
    assert lint(bn_line(""), per_file_ignores=[PerFileIgnore("model.py", ("BN003",), here)]) == [("BN001", 5)]
    assert lint(bn_line(""), per_file_ignores=[PerFileIgnore("other.py", ("BN001",), here)]) == [("BN001", 5)]


# --- comment scanning ------------------------------------------------------------------


def test_directives_found_with_positions() -> None:
    found = directives(b"x = 1  # noqa: BN001,BN002\ns = '# noqa'\ny = 2  # bnlint: ignore[BN003]\n")
    assert [(d.kind, d.line, d.column, d.codes) for d in found] == [
        ("noqa", 1, 8, ("BN001", "BN002")), ("ignore", 3, 8, ("BN003",))]


def test_line_scanner_fallback_skips_strings() -> None:
    text = "a = '#x'  # one\nb = \"it's\"  # two\nc = 1\n"
    assert list(_comments_by_line(text)) == [(1, 10, "# one"), (2, 12, "# two")]


# --- end to end ----------------------------------------------------------------------


def test_suppressions_through_the_cli(tmp_path: Path) -> None:
    write(tmp_path / "a.py", AXIS_MODEL.replace("BatchNormalization()(x)", "BatchNormalization()(x)  # noqa: BN001"))
    write(tmp_path / "b.py", "# bnlint: skip-file\n" + AXIS_MODEL)
    write(tmp_path / "c.py", MIXED_MODEL.replace('layers.Dropout(0.5),', 'layers.Dropout(0.5),  # bnlint: ignore[BN003]'))
    run = bnlint(".", "--select", "BN001,BN003", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert run.stdout == "All checks passed!\n"
    write(tmp_path / "d.py", "y = 1  # noqa: BN003\n")
    run = bnlint(".", "--select", "BN001,BN003", "--extend-select", "BN900", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == ("d.py:1:8: warning: BN900 unused suppression `# noqa: BN003`: "
                                          "no BN003 finding to suppress here")
