"""The CLI details ruff users reach for, end to end through the real command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

REPO = Path(__file__).resolve().parent.parent
FIXED_AXIS_MODEL = AXIS_MODEL.replace("BatchNormalization()", "BatchNormalization(axis=1)")
BN001 = ("--isolated", "--select", "BN001")


# ------------------------------------------------------------------ exit codes

def test_exit_zero_reports_and_exits_zero(tmp_path: Path) -> None:
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", "--exit-zero", *BN001, cwd=tmp_path)
    assert run.returncode == 0
    assert "m.py:5:9: error: BN001" in run.stdout
    broken = bnlint("m.py", "--exit-zero", "--select", "BN03", cwd=tmp_path)
    assert broken.returncode == 2  # a usage error is still one


def test_exit_non_zero_on_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "m.py", AXIS_MODEL)
    assert bnlint("m.py", "--fix", *BN001, cwd=tmp_path).returncode == 0
    path.write_text(AXIS_MODEL)
    run = bnlint("m.py", "--fix", "--exit-non-zero-on-fix", *BN001, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert path.read_text() == FIXED_AXIS_MODEL
    again = bnlint("m.py", "--fix", "--exit-non-zero-on-fix", *BN001, cwd=tmp_path)
    assert again.returncode == 0  # nothing changed this time


# -------------------------------------------------------------------- --add-noqa

def test_add_noqa_suppresses_every_finding_and_merges_with_existing_comments(tmp_path: Path) -> None:
    # An existing directive for another code on the first Conv2D line: the new code joins it.
    # The conv keeps its bias here, so BN005 reports that line too.
    source = MIXED_MODEL.replace("layers.Conv2D(32, 3, use_bias=False)(inputs)", "layers.Conv2D(32, 3)(inputs)  # noqa: XY1")
    path = write(tmp_path / "m.py", source)
    findings = json.loads(bnlint("m.py", "--isolated", "--select", "ALL", "--output-format", "json",
                                 cwd=tmp_path).stdout)
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        wanted.setdefault(finding["line"], set()).add(finding["code"])
    assert len(wanted) >= 2 and 6 in wanted and 15 in wanted  # the Conv2D line and the Dropout (BN003) line
    run = bnlint("m.py", "--isolated", "--select", "ALL", "--add-noqa", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"Added {len(wanted)} noqa directives in 1 file.\n"
    lines = path.read_text().splitlines()
    original = source.splitlines()
    for number, codes in wanted.items():
        if number == 6:
            assert lines[5] == original[5] + ", " + ", ".join(sorted(codes))
        else:
            assert lines[number - 1] == f"{original[number - 1]}  # noqa: {', '.join(sorted(codes))}"
    untouched = [i for i in range(len(lines)) if i + 1 not in wanted]
    assert [lines[i] for i in untouched] == [original[i] for i in untouched]
    assert bnlint("m.py", "--isolated", "--select", "ALL", cwd=tmp_path).returncode == 0
    again = bnlint("m.py", "--isolated", "--select", "ALL", "--add-noqa", cwd=tmp_path)
    assert again.stdout == "Added 0 noqa directives in 0 files.\n"


def test_add_noqa_in_a_notebook_changes_only_that_cell(tmp_path: Path) -> None:
    book = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": AXIS_MODEL.splitlines(keepends=True)}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    original = json.dumps(book, indent=1) + "\n"
    path = write(tmp_path / "nb.ipynb", original)
    run = bnlint("nb.ipynb", "--add-noqa", *BN001, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    old = json.dumps("    x = layers.BatchNormalization()(x)\n")
    assert path.read_text() == original.replace(old, json.dumps("    x = layers.BatchNormalization()(x)  # noqa: BN001\n"))
    assert bnlint("nb.ipynb", *BN001, cwd=tmp_path).returncode == 0


# --------------------------------------------------------- settings and files

def test_show_settings_prints_the_resolved_settings_without_linting(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nignore = ["BN002"]\nfail-on = "error"\n')
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", "--show-settings", "--dropout-threshold", "0.4", cwd=tmp_path)
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert f"config-file = {json.dumps(str(tmp_path / 'pyproject.toml'))}" in lines
    enabled = json.loads(next(line for line in lines if line.startswith("enabled = ")).split(" = ", 1)[1])
    assert "BN001" in enabled and "BN002" not in enabled
    assert 'fail-on = "error"' in lines
    assert "dropout-threshold = 0.4" in lines
    assert "BN001" not in run.stdout.replace('"BN001"', "")  # no finding was printed


def test_show_files_lists_what_a_run_would_lint(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextend-exclude = ["generated"]\n')
    write(tmp_path / "src" / "a.py", "x = 1\n")
    write(tmp_path / "src" / "nb.ipynb", "{}")
    write(tmp_path / "src" / "notes.txt", "")
    write(tmp_path / "generated" / "b.py", "x = 1\n")
    run = bnlint("--show-files", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.splitlines() == ["src/a.py", "src/nb.ipynb"]
    named = bnlint("--show-files", "generated/b.py", cwd=tmp_path)
    assert named.stdout.splitlines() == ["generated/b.py"]
    forced = bnlint("--show-files", "--force-exclude", "generated/b.py", "src/a.py", cwd=tmp_path)
    assert forced.stdout.splitlines() == ["src/a.py"]


def test_force_exclude_skips_excluded_files_named_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextend-exclude = ["legacy", "*_pb2.py"]\n')
    write(tmp_path / "legacy" / "deep" / "m.py", AXIS_MODEL)
    write(tmp_path / "model_pb2.py", AXIS_MODEL)
    assert bnlint("legacy/deep/m.py", cwd=tmp_path).returncode == 1  # named files win by default
    run = bnlint("legacy/deep/m.py", "model_pb2.py", "--force-exclude", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (0, "All checks passed!\n")
    fixed = bnlint("legacy/deep/m.py", "--force-exclude", "--fix", cwd=tmp_path)
    assert fixed.returncode == 0
    assert (tmp_path / "legacy" / "deep" / "m.py").read_text() == AXIS_MODEL


# ------------------------------------------------------------------ rule list

def test_rules_as_json(tmp_path: Path) -> None:
    run = bnlint("rules", "--output-format", "json", cwd=tmp_path)
    assert run.returncode == 0
    rules = json.loads(run.stdout)
    text_codes = [line.split()[0] for line in bnlint("rules", cwd=tmp_path).stdout.splitlines()[1:]]
    assert [rule["code"] for rule in rules] == text_codes
    bn001 = next(rule for rule in rules if rule["code"] == "BN001")
    assert (bn001["name"], bn001["severity"], bn001["enabled_by_default"], bn001["fix"]) == \
        ("axis-mismatch", "error", True, "safe")
    assert "## Why is this bad?" in bn001["documentation"]
    assert bnlint("rules", "--output-format", "yaml", cwd=tmp_path).returncode == 2


# ------------------------------------------------------------- full and SARIF

def test_full_output_has_context_lines_a_help_line_and_the_fix_as_a_diff(tmp_path: Path) -> None:
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", "--output-format", "full", *BN001, cwd=tmp_path)
    assert run.returncode == 1
    expected = """\
m.py:5:9: error: BN001 [*] BatchNormalization normalizes axis -1 (width) of a channels_first Conv2D output; the channel axis is 1
  |
3 | def build(inputs):
4 |     x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
5 |     x = layers.BatchNormalization()(x)
  |         ^^^^^^^^^^^^^^^^^^^^^^^^^^^
6 |     return x
  help: Set `axis=1`
  5 -     x = layers.BatchNormalization()(x)
  5 +     x = layers.BatchNormalization(axis=1)(x)
"""
    assert run.stdout.startswith(expected), run.stdout


def test_full_output_says_when_a_fix_is_unsafe(tmp_path: Path) -> None:
    write(tmp_path / "m.py", MIXED_MODEL)
    run = bnlint("m.py", "--output-format", "full", "--isolated", "--select", "BN003", cwd=tmp_path)
    assert "(unsafe fix: applied with --fix --unsafe-fixes)" in run.stdout
    assert "+     layers.Dropout(0.5)," in run.stdout or "+ " in run.stdout.split("help:")[1]


def test_sarif_fixes_are_the_fix_and_the_document_is_valid(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", "--output-format", "sarif", *BN001, cwd=tmp_path)
    document = json.loads(run.stdout)
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(document, schema)
    [result] = document["runs"][0]["results"]
    [fix] = result["fixes"]
    assert fix["description"]["text"] == "Set `axis=1` (safe fix)"
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "m.py"
    [replacement] = change["replacements"]
    region = replacement["deletedRegion"]
    lines = AXIS_MODEL.splitlines(keepends=True)
    applied = "".join(lines[:region["startLine"] - 1]) + replacement["insertedContent"]["text"] + \
        "".join(lines[region["endLine"] - 1:])
    assert applied == FIXED_AXIS_MODEL


# --------------------------------------------------------------- config codes

@pytest.mark.parametrize("config", [
    'select = ["BN03"]',
    'ignore = ["BN03"]',
    '[tool.bnlint.per-file-ignores]\n"tests/*" = ["BN03"]',
])
def test_a_mistyped_code_in_the_config_is_exit_2_with_a_did_you_mean(tmp_path: Path, config: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.bnlint]\n{config}\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 2
    assert "'BN03'" in run.stderr and "did you mean 'BN003'?" in run.stderr
    assert str(tmp_path / "pyproject.toml") in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_a_mistyped_code_on_the_command_line_is_exit_2(tmp_path: Path) -> None:
    run = bnlint(".", "--ignore", "BN03", cwd=tmp_path)
    assert run.returncode == 2 and "did you mean 'BN003'?" in run.stderr


# -------------------------------------------------------------- progress line

def _slow_model(path: Path) -> None:
    lines = ["from keras import layers, Sequential"]
    for k in range(3):  # a few seconds of analysis: well past the one-second mark on any machine
        lines.append(f"model{k} = Sequential([")
        for i in range(1200):
            lines += [f"    layers.Conv2D({i % 64 + 1}, 3, padding='same'),", "    layers.BatchNormalization(),",
                      "    layers.ReLU(),"]
        lines.append("])")
    write(path, "\n".join(lines) + "\n")


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, bytes, bytes]:
    import pty

    leader, follower = pty.openpty()
    try:
        run = subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=follower, timeout=300, check=False)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return run.returncode, run.stdout, shown


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_the_progress_line_names_a_slow_file_on_a_terminal_only(tmp_path: Path) -> None:
    _slow_model(tmp_path / "slow_model.py")
    write(tmp_path / "quick.py", "x = 1\n")
    code, stdout, shown = _on_a_terminal(["--isolated", "--no-cache", "--select", "BN001", "."], tmp_path)
    assert code == 0, stdout
    assert b"linting slow_model.py (" in shown
    assert shown.endswith(b"\r\x1b[K") or b"\r\x1b[K" in shown  # the line is erased at the end
    assert b"linting" not in stdout
    piped = bnlint("--isolated", "--no-cache", "--select", "BN001", ".", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
