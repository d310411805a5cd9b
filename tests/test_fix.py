"""``--fix``, ``--unsafe-fixes``, ``--diff``, ``--show-fixes`` through the real command line, and the guarantees."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint import fixer
from bnlint.api import fix_file, select_rules
from bnlint.config import Settings
from fixutil import codes, fix

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BAD = sorted(p for p in EXAMPLES.glob("bn0*.py") if not p.stem.endswith("_fixed"))
# A twin made by hand: BN006's fix edits the reported call only, so the momentum that
# reaches a BN through a module constant is rewritten by the author (the twin shows how).
HAND_FIXED = {"bn006_momentum_convention.py"}
FIX_MADE = [p for p in BAD if p.name not in HAND_FIXED]

AXIS = """\
from keras import layers  # the layers


def build(inputs):
    # channels-first stem
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)   # wrong axis

    return x
"""


def bnlint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return tmp_path


def test_fix_writes_safe_fixes_and_reports_nothing_left(project):
    path = project / "model.py"
    path.write_text(AXIS)
    run = bnlint("--fix", "model.py", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert path.read_text() == AXIS.replace("BatchNormalization()", "BatchNormalization(axis=1)")
    assert bnlint("model.py", cwd=project).returncode == 0


def test_check_marks_fixable_findings_and_counts_them(project):
    shutil.copy(EXAMPLES / "sequential_cnn.py", project / "model.py")  # three unsafe BN003 fixes
    shutil.copy(EXAMPLES / "bn002_redundant_scale.py", project / "caffe.py")  # three safe BN002 fixes
    run = bnlint("model.py", "caffe.py", cwd=project)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert sum(" BN002 [*] " in line for line in lines) == 3
    assert sum(" BN003 " in line and "[*]" not in line for line in lines) == 3
    assert lines[-1] == "Found 6 problems (6 warnings). [*] 3 fixable with --fix (3 more with --unsafe-fixes)."
    unsafe = bnlint("--unsafe-fixes", "model.py", "caffe.py", cwd=project)
    assert unsafe.stdout.splitlines()[-1] == "Found 6 problems (6 warnings). [*] 6 fixable with --fix --unsafe-fixes."


def test_refused_fix_is_not_marked_fixable(project):
    (project / "model.py").write_text(
        "from keras import layers\n\ndef block(x):\n    x = layers.Dropout(0.5)(x)\n"
        "    x = layers.Conv2D(64, 3, activation=\"relu\")(x)\n    return layers.BatchNormalization()(x)\n")
    run = bnlint("--unsafe-fixes", "model.py", cwd=project)
    assert "BN003 Dropout" in run.stdout and "[*]" not in run.stdout


def test_fix_without_unsafe_leaves_unsafe_findings(project):
    shutil.copy(EXAMPLES / "sequential_cnn.py", project / "model.py")
    shutil.copy(EXAMPLES / "bn002_redundant_scale.py", project / "caffe.py")
    run = bnlint("--fix", "--show-fixes", "model.py", "caffe.py", cwd=project)
    assert run.returncode == 1
    assert "BN002" not in run.stdout.split("Fixed")[0]
    assert run.stdout.count(" BN003 ") == 3
    assert "Fixed 3 problems:" in run.stdout and "3 × BN002 (redundant-scale)" in run.stdout


def test_unsafe_fixes_fix_everything_in_the_examples(project):
    for bad in FIX_MADE + [EXAMPLES / "sequential_cnn.py", EXAMPLES / "unet_strided.py"]:
        shutil.copy(bad, project / bad.name)
    run = bnlint("--fix", "--unsafe-fixes", "--show-fixes", ".", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Found 20 problems (20 fixed, 0 remaining).\n")
    assert "Fixed 20 problems:" in run.stdout


def test_diff_prints_and_writes_nothing(project):
    path = project / "model.py"
    path.write_text(AXIS)
    before = path.stat().st_mtime_ns
    run = bnlint("--diff", "model.py", cwd=project)
    assert run.returncode == 1
    assert "-    x = layers.BatchNormalization()(x)   # wrong axis" in run.stdout
    assert "+    x = layers.BatchNormalization(axis=1)(x)   # wrong axis" in run.stdout
    assert run.stdout.startswith("--- a/model.py\n+++ b/model.py\n")
    assert path.read_text() == AXIS and path.stat().st_mtime_ns == before
    path.write_text(AXIS.replace("BatchNormalization()", "BatchNormalization(axis=1)"))
    clean = bnlint("--diff", "model.py", cwd=project)
    assert clean.returncode == 0 and clean.stdout == ""


def test_diff_of_unsafe_fixes_needs_the_flag(project):
    shutil.copy(EXAMPLES / "bn003_dropout_variance_shift.py", project / "model.py")
    assert bnlint("--diff", "model.py", cwd=project).returncode == 0
    assert bnlint("--diff", "--unsafe-fixes", "model.py", cwd=project).returncode == 1


def test_second_fix_changes_nothing(project):
    path = project / "model.py"
    shutil.copy(EXAMPLES / "sequential_cnn.py", path)
    bnlint("--fix", "--unsafe-fixes", "model.py", cwd=project)
    once = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    run = bnlint("--fix", "--unsafe-fixes", "model.py", cwd=project)
    assert run.returncode == 0 and path.read_bytes() == once and path.stat().st_mtime_ns == mtime


def test_file_without_applicable_fix_is_not_rewritten(project):
    path = project / "model.py"
    shutil.copy(EXAMPLES / "bn003_dropout_variance_shift.py", path)  # only an unsafe fix
    mtime = path.stat().st_mtime_ns
    run = bnlint("--fix", "model.py", cwd=project)
    assert run.returncode == 1 and path.stat().st_mtime_ns == mtime
    assert not list(project.glob(".*bnlint-tmp"))


def test_mode_is_kept_and_no_temp_file_is_left(project):
    path = project / "model.py"
    path.write_text(AXIS)
    os.chmod(path, 0o640)
    assert bnlint("--fix", "model.py", cwd=project).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["model.py", "pyproject.toml"]


def test_file_changed_on_disk_is_not_clobbered(project, monkeypatch):
    path = project / "model.py"
    path.write_text(AXIS)
    real = fixer.fix_source

    def edit_meanwhile(*args, **kwargs):
        outcome = real(*args, **kwargs)
        path.write_text(AXIS + "# edited meanwhile\n")
        return outcome

    monkeypatch.setattr(fixer, "fix_source", edit_meanwhile)
    settings = Settings()
    outcome = fix_file(path, settings, select_rules(settings))
    assert "changed on disk" in outcome.problem
    assert path.read_text() == AXIS + "# edited meanwhile\n"
    assert [d.code for d in outcome.remaining] == ["BN001"]
    assert sorted(p.name for p in project.iterdir()) == ["model.py", "pyproject.toml"]


def test_a_fix_that_breaks_the_syntax_reverts_the_file(monkeypatch):
    from bnlint.fixer import apply

    import libcst as cst

    def broken(self, old, new):
        axis = cst.Arg(cst.Integer("1"), keyword=cst.Name("axis"))
        return new.with_changes(args=[axis.with_changes(comma=cst.Comma()), axis])

    monkeypatch.setattr(apply.ApplyChanges, "_edit_call", broken)  # axis=1, axis=1: keyword repeated
    outcome = fix(AXIS, dedent=False)
    assert not outcome.changed and "broken the syntax" in outcome.problem
    assert [d.code for d in outcome.remaining] == ["BN001"]


def test_comments_blank_lines_and_formatting_outside_the_edit_are_kept():
    outcome = fix(AXIS, dedent=False)
    before, after = AXIS.splitlines(True), outcome.fixed.decode().splitlines(True)
    assert len(before) == len(after)
    assert [a for a, b in zip(before, after) if a != b] == ["    x = layers.BatchNormalization()(x)   # wrong axis\n"]


def test_crlf_and_missing_final_newline_survive():
    data = AXIS.rstrip("\n").replace("\n", "\r\n").encode()
    outcome = fix(data)
    assert outcome.fixed == data.replace(b"BatchNormalization()", b"BatchNormalization(axis=1)")
    unet = (EXAMPLES / "bn004_unet_encoder_missing_bn.py").read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n")
    fixed = fix(unet).fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"") and not fixed.endswith(b"\n")
    assert fixed == (EXAMPLES / "bn004_unet_encoder_missing_bn_fixed.py").read_bytes().replace(
        b"\n", b"\r\n").rstrip(b"\r\n")


@pytest.mark.parametrize("bad", FIX_MADE, ids=lambda p: p.name)
def test_fixed_examples_equal_what_fix_produces(bad):
    outcome = fix(bad.read_bytes(), select=[])  # the twins are what the default rules fix
    assert outcome.problem is None and not outcome.remaining
    assert outcome.fixed == bad.with_name(bad.stem + "_fixed.py").read_bytes()


@pytest.mark.parametrize("name", ["sequential_cnn.py", "unet_strided.py", *(p.name for p in FIX_MADE)])
def test_relint_reports_none_of_the_fixed_findings(name):
    outcome = fix((EXAMPLES / name).read_bytes(), select=[])
    assert outcome.found and codes(outcome.fixed, select=[]) == []
