"""``bnlint - --stdin-filename PATH`` through the real CLI: standard input linted as if it were that file."""
from __future__ import annotations

import json
from pathlib import Path

from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

FIXED_AXIS_MODEL = AXIS_MODEL.replace("BatchNormalization()", "BatchNormalization(axis=1)")


def test_stdin_is_reported_under_the_given_name(tmp_path: Path) -> None:
    run = bnlint("-", "--stdin-filename", "models/unet.py", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines()[0].startswith("models/unet.py:5:9: error: BN001 [*] ")
    assert not (tmp_path / "models").exists()


def test_without_a_name_stdin_is_called_dash(tmp_path: Path) -> None:
    run = bnlint("-", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 1
    assert run.stdout.startswith("-:5:9: error: BN001")


def test_the_text_on_stdin_wins_over_the_file_on_disk(tmp_path: Path) -> None:
    write(tmp_path / "model.py", FIXED_AXIS_MODEL)  # the saved file is clean; the editor buffer is not
    run = bnlint("-", "--stdin-filename", "model.py", "--output-format", "full", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 1
    assert "5 |     x = layers.BatchNormalization()(x)" in run.stdout  # context lines from stdin, not the disk


def test_the_config_of_the_named_files_folder_applies(tmp_path: Path) -> None:
    write(tmp_path / "legacy" / "bnlint.toml", 'ignore = ["BN001"]\n')
    run = bnlint("-", "--stdin-filename", "legacy/old.py", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == "All checks passed!\n"
    elsewhere = bnlint("-", "--stdin-filename", "new/model.py", cwd=tmp_path, stdin=AXIS_MODEL)
    assert elsewhere.returncode == 1


def test_per_file_ignores_apply_to_the_name(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.bnlint.per-file-ignores]\n"vendor/*" = ["BN001"]\n')
    assert bnlint("-", "--stdin-filename", "vendor/m.py", cwd=tmp_path, stdin=AXIS_MODEL).returncode == 0
    assert bnlint("-", "--stdin-filename", "src/m.py", cwd=tmp_path, stdin=AXIS_MODEL).returncode == 1


def test_an_excluded_name_has_no_findings_and_fix_echoes_the_text(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextend-exclude = ["generated"]\n')
    run = bnlint("-", "--stdin-filename", "generated/deep/m.py", cwd=tmp_path, stdin=AXIS_MODEL)
    assert (run.returncode, run.stdout) == (0, "All checks passed!\n")
    fixed = bnlint("-", "--stdin-filename", "generated/m.py", "--fix", cwd=tmp_path, stdin=AXIS_MODEL)
    assert (fixed.returncode, fixed.stdout) == (0, AXIS_MODEL)


def test_fix_writes_the_fixed_source_to_stdout_and_nothing_else(tmp_path: Path) -> None:
    run = bnlint("-", "--stdin-filename", "m.py", "--fix", "--select", "BN001", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 0, run.stderr
    assert run.stdout == FIXED_AXIS_MODEL
    assert run.stderr == ""
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


def test_fix_with_findings_left_reports_them_on_stderr(tmp_path: Path) -> None:
    run = bnlint("-", "--stdin-filename", "m.py", "--fix", cwd=tmp_path, stdin=MIXED_MODEL)
    assert run.returncode == 1
    assert run.stdout == MIXED_MODEL  # BN003's fix is unsafe: not applied without --unsafe-fixes
    assert "m.py:15:5: warning: BN003" in run.stderr
    unsafe = bnlint("-", "--stdin-filename", "m.py", "--fix", "--unsafe-fixes", cwd=tmp_path, stdin=MIXED_MODEL)
    assert unsafe.stdout != MIXED_MODEL and "Dropout" in unsafe.stdout
    compile(unsafe.stdout, "m.py", "exec")


def test_diff_of_stdin(tmp_path: Path) -> None:
    run = bnlint("-", "--stdin-filename", "m.py", "--diff", cwd=tmp_path, stdin=AXIS_MODEL)
    assert run.returncode == 1
    assert "-    x = layers.BatchNormalization()(x)\n+    x = layers.BatchNormalization(axis=1)(x)\n" in run.stdout


def test_json_output_and_a_notebook_on_stdin(tmp_path: Path) -> None:
    [finding] = json.loads(bnlint("-", "--stdin-filename", "m.py", "--output-format", "json",
                                  cwd=tmp_path, stdin=AXIS_MODEL).stdout)
    assert (finding["path"], finding["line"]) == ("m.py", 5)
    book = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": AXIS_MODEL.splitlines(keepends=True)}], "metadata": {}, "nbformat": 4,
            "nbformat_minor": 5}
    run = bnlint("-", "--stdin-filename", "nb.ipynb", cwd=tmp_path, stdin=json.dumps(book))
    assert run.stdout.startswith("nb.ipynb:cell 1:5:9: error: BN001")


def test_stdin_filename_needs_the_dash(tmp_path: Path) -> None:
    run = bnlint("src", "--stdin-filename", "m.py", cwd=tmp_path)
    assert run.returncode == 2
    assert "needs '-'" in run.stderr
