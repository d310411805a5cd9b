"""Each finding's severity in text output, the summary that counts them, and the README's problem matcher."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bnlint.diagnostics import Applicability, Diagnostic, Fix, Severity
from bnlint.output import RenderContext, full, text

from cliutil import AXIS_MODEL, bnlint, write

README = Path(__file__).resolve().parent.parent / "README.md"

# A channels_first conv, then a BN on the default axis: BN001, error, safe fix.
ERROR_MODEL = AXIS_MODEL

# Dropout(0.5) feeding Conv2D -> BN: BN003, warning, unsafe fix.
WARNING_MODEL = """\
import keras
from keras import layers

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu"),
    layers.Dropout(0.5),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(axis=-1),
    layers.Activation("sigmoid"),
])
"""

# A U-Net with no normalization anywhere: BN004, info.
INFO_MODEL = """\
from keras import layers


def build(inputs):
    c1 = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu")(p1)
    u1 = layers.UpSampling2D()(c2)
    return layers.concatenate([u1, c1])
"""


def finding(severity: Severity, code: str = "BN003", fix: Applicability | None = None) -> Diagnostic:
    made = Fix("a fix", fix, ()) if fix is not None else None
    return Diagnostic(code, "a-rule", "a message", "m.py", 3, 5, 3, 9, severity, fix=made)


# --- one line per finding ----------------------------------------------------------


@pytest.mark.parametrize("severity", list(Severity))
def test_each_line_names_its_severity_before_the_code(severity: Severity) -> None:
    line = text.render([finding(severity, fix=Applicability.SAFE)]).splitlines()[0]
    assert line == f"m.py:3:5: {severity.label}: BN003 [*] a message"
    assert full.render([finding(severity)]).splitlines()[0] == f"m.py:3:5: {severity.label}: BN003 a message"


def test_colour_paints_the_severity_word_in_its_colour() -> None:
    line = text.render([finding(Severity.ERROR)], RenderContext(color=True)).splitlines()[0]
    assert "\x1b[31;1merror:\x1b[0m" in line  # red, bold
    assert re.sub(r"\x1b\[[0-9;]*m", "", line) == "m.py:3:5: error: BN003 a message"


# --- the summary line ----------------------------------------------------------------


SUMMARIES = [
    ([], None, "All checks passed!"),
    ([finding(Severity.ERROR)], None, "Found 1 problem (1 error)."),
    ([finding(Severity.INFO)] * 52 + [finding(Severity.WARNING)] * 6, None, "Found 58 problems (6 warnings, 52 info)."),
    ([finding(Severity.INFO), finding(Severity.WARNING), finding(Severity.ERROR), finding(Severity.ERROR)], None,
     "Found 4 problems (2 errors, 1 warning, 1 info)."),
    ([finding(Severity.INFO)], None, "Found 1 problem (1 info)."),
    ([finding(Severity.WARNING, fix=Applicability.SAFE)] * 2 + [finding(Severity.INFO, fix=Applicability.UNSAFE)],
     None, "Found 3 problems (2 warnings, 1 info). [*] 2 fixable with --fix (1 more with --unsafe-fixes)."),
    ([finding(Severity.WARNING, fix=Applicability.UNSAFE)], None,
     "Found 1 problem (1 warning). [*] 1 fixable with --fix --unsafe-fixes."),
    # after --fix
    ([], 3, "Found 3 problems (3 fixed, 0 remaining)."),
    ([finding(Severity.WARNING, fix=Applicability.UNSAFE)] * 5 + [finding(Severity.INFO)] * 30, 60,
     "Found 95 problems (60 fixed, 35 remaining: 5 warnings, 30 info). [*] 5 fixable with --fix --unsafe-fixes."),
    ([finding(Severity.ERROR)], 0, "Found 1 problem (1 error)."),  # --fix that fixed nothing
]


@pytest.mark.parametrize(("diagnostics", "fixed", "expected"), SUMMARIES)
def test_summary_wording(diagnostics: list[Diagnostic], fixed: int | None, expected: str) -> None:
    assert text.summary(diagnostics, RenderContext(fixed=fixed)) == expected
    assert text.render(diagnostics, RenderContext(fixed=fixed)).splitlines()[-1] == expected
    assert full.render(diagnostics, RenderContext(fixed=fixed)).splitlines()[-1] == expected


def test_summary_says_why_findings_below_fail_on_pass() -> None:
    info, warning, error = (finding(s) for s in (Severity.INFO, Severity.WARNING, Severity.ERROR))
    note = text.summary([info, info], RenderContext(fail_on=Severity.WARNING))
    assert note == "Found 2 problems (2 info). (info findings do not fail the run; --fail-on info to change that)"
    assert text.summary([warning, info], RenderContext(fail_on=Severity.ERROR)) == (
        "Found 2 problems (1 warning, 1 info). "
        "(warning and info findings do not fail the run; --fail-on info to change that)")
    assert text.summary([warning], RenderContext(fail_on=Severity.ERROR)).endswith(
        "(warning findings do not fail the run; --fail-on warning to change that)")
    for failing, fail_on in (([warning, info], Severity.WARNING), ([error], Severity.ERROR), ([info], Severity.INFO)):
        assert "do not fail" not in text.summary(failing, RenderContext(fail_on=fail_on))
    assert "do not fail" not in text.summary([info])  # no fail-on known: say nothing


# --- through the real command line -------------------------------------------------

# The summary tests name the rules they count, so a rule added later cannot change their figures.
RULES = ("--select", "BN001,BN003,BN004")


@pytest.fixture
def three_severities(tmp_path: Path) -> Path:
    write(tmp_path / "src" / "axis.py", ERROR_MODEL)
    write(tmp_path / "src" / "dropout.py", WARNING_MODEL)
    write(tmp_path / "src" / "unet.py", INFO_MODEL)
    write(tmp_path / "src" / "broken.py", "from keras import layers\nx = layers.BatchNormalization()(\n")
    return tmp_path


def test_readme_problem_matcher_reads_every_finding_line(three_severities: Path) -> None:
    block = README.read_text(encoding="utf-8").split("### VS Code problem matcher", 1)[1]
    matcher = json.loads(block.split("```json\n", 1)[1].split("```", 1)[0])["tasks"][0]["problemMatcher"]
    pattern = matcher["pattern"]
    regexp = re.compile(pattern["regexp"])
    run = bnlint("src", cwd=three_severities)
    expected = json.loads(bnlint("src", "--output-format", "json", cwd=three_severities).stdout)
    *finding_lines, summary = run.stdout.splitlines()
    assert regexp.match(summary) is None  # the summary is not a problem
    matched = []
    for line in finding_lines:
        match = regexp.match(line)
        assert match, line
        matched.append({key: match.group(pattern[key])
                        for key in ("file", "line", "column", "severity", "code", "message")})
    assert matched == [{"file": f["path"], "line": str(f["line"]), "column": str(f["column"]),
                        "severity": f["severity"], "code": f["code"], "message": f["message"]} for f in expected]
    assert {m["severity"] for m in matched} == {"error", "warning", "info"}
    assert {(m["file"], m["code"], m["severity"]) for m in matched} >= {
        ("src/axis.py", "BN001", "error"), ("src/dropout.py", "BN003", "warning"),
        ("src/unet.py", "BN004", "info"), ("src/broken.py", "E999", "error")}
    assert "severity" not in matcher  # every severity comes from the line itself


def test_cli_summary_counts_severities_and_exit_code_agrees(three_severities: Path) -> None:
    run = bnlint(*RULES, "src/axis.py", "src/dropout.py", "src/unet.py", cwd=three_severities)
    assert run.returncode == 1
    assert run.stdout.splitlines()[-1] == (
        "Found 3 problems (1 error, 1 warning, 1 info). [*] 1 fixable with --fix (2 more with --unsafe-fixes).")


def test_cli_explains_an_exit_0_with_findings(three_severities: Path) -> None:
    run = bnlint(*RULES, "src/unet.py", cwd=three_severities)
    assert run.returncode == 0
    assert run.stdout.splitlines()[-1] == ("Found 1 problem (1 info). [*] 1 fixable with --fix --unsafe-fixes. "
                                           "(info findings do not fail the run; --fail-on info to change that)")
    failing = bnlint(*RULES, "src/unet.py", "--fail-on", "info", cwd=three_severities)
    assert failing.returncode == 1 and "do not fail" not in failing.stdout
    gated = bnlint(*RULES, "src/dropout.py", "src/unet.py", "--fail-on", "error", cwd=three_severities)
    assert gated.returncode == 0
    assert gated.stdout.splitlines()[-1].endswith(
        "(warning and info findings do not fail the run; --fail-on info to change that)")
    assert "do not fail" not in bnlint(*RULES, "src/axis.py", cwd=three_severities).stdout


def test_fix_summary_through_the_cli(three_severities: Path) -> None:
    src = three_severities / "src"
    shutil.copy(src / "axis.py", src / "axis_copy.py")
    run = bnlint(*RULES, "src/axis.py", "src/dropout.py", "--fix", cwd=three_severities)
    assert run.returncode == 1
    [left, summary] = run.stdout.splitlines()
    assert left.startswith("src/dropout.py:6:5: warning: BN003 Dropout(rate=0.5) feeds BatchNormalization")
    assert summary == "Found 2 problems (1 fixed, 1 remaining: 1 warning). [*] 1 fixable with --fix --unsafe-fixes."
    everything = bnlint(*RULES, "src/axis_copy.py", "src/dropout.py", "--fix", "--unsafe-fixes", cwd=three_severities)
    assert everything.returncode == 0
    assert everything.stdout == "Found 2 problems (2 fixed, 0 remaining).\n"
    again = bnlint(*RULES, "src/axis_copy.py", "src/dropout.py", "--fix", cwd=three_severities)
    assert again.returncode == 0 and again.stdout == "All checks passed!\n"


def test_the_note_appears_only_when_the_run_exits_0(three_severities: Path) -> None:
    src = three_severities / "src"
    shutil.copy(src / "axis.py", src / "axis_copy.py")
    # The fix leaves only an info finding, but --exit-non-zero-on-fix fails the run for the change itself.
    changed = bnlint(*RULES, "src/axis_copy.py", "src/unet.py", "--fix", "--exit-non-zero-on-fix",
                     cwd=three_severities)
    assert changed.returncode == 1
    assert changed.stdout.splitlines()[-1] == (
        "Found 2 problems (1 fixed, 1 remaining: 1 info). [*] 1 fixable with --fix --unsafe-fixes.")
    piped = bnlint(*RULES, "-", "--stdin-filename", "src/unet.py", cwd=three_severities, stdin=INFO_MODEL)
    assert piped.returncode == 0
    assert piped.stdout.splitlines()[-1].endswith("(info findings do not fail the run; --fail-on info to change that)")
