"""Every --output-format, --statistics and colour, through the real command line and the renderers."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from bnlint.diagnostics import Diagnostic, Severity
from bnlint.output import RenderContext, rule_catalog, use_color
from bnlint.output import full, github, junit, sarif, statistics, text
from bnlint.rules import ALL_RULES, CATALOG

from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "models" / "axis.py", AXIS_MODEL)  # BN001 error at 5:9
    write(tmp_path / "models" / "mixed.py", MIXED_MODEL)  # BN020 info at 7:9, BN003 warning at 15:5
    write(tmp_path / "bnlint.toml", 'extend-select = ["BN020"]\n')  # an info rule, off by default
    write(tmp_path / "models" / "clean.py", "import keras\n\nx = keras.layers.BatchNormalization()\n")
    return tmp_path


def diagnostic(message: str = "a message", path: str = "m.py", severity: Severity = Severity.WARNING,
               code: str = "BN003", name: str = "dropout-variance-shift") -> Diagnostic:
    return Diagnostic(code, name, message, path, 3, 5, 4, 9, severity)


# --- text / full -------------------------------------------------------------------


def test_text_lines_and_summary(project: Path) -> None:
    run = bnlint("models", cwd=project)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert [line.split(" ")[0:3] for line in lines[:-1]] == [["models/axis.py:5:9:", "error:", "BN001"],
                                                            ["models/mixed.py:7:9:", "info:", "BN020"],
                                                            ["models/mixed.py:15:5:", "warning:", "BN003"]]
    assert lines[-1].startswith("Found 3 problems (1 error, 1 warning, 1 info).")
    assert not ANSI.search(run.stdout)  # not a terminal


def test_full_shows_the_source_line_with_a_caret(project: Path) -> None:
    run = bnlint("models/axis.py", "--output-format", "full", cwd=project)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("models/axis.py:5:9: error: BN001 ")
    # Two lines of context either side; the finding's line is followed by its caret line.
    assert [line.split(" |")[0] for line in lines[2:5]] == ["3", "4", "5"]
    assert lines[4] == "5 |     x = layers.BatchNormalization()(x)"
    caret_line = lines[5]
    source_start = lines[4].index("|") + 2
    assert caret_line.index("^") - source_start == 8  # column 9
    assert caret_line.strip("| ") == "^" * len("layers.BatchNormalization()")
    assert lines[-1] == "Found 1 problem (1 error). [*] 1 fixable with --fix."


def test_full_keeps_tabs_so_the_caret_lines_up(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("\tx = call()\n", encoding="utf-8")
    d = Diagnostic("BN001", "axis-mismatch", "msg", str(tmp_path / "t.py"), 1, 6, 1, 12, Severity.ERROR)
    lines = full.render([d]).splitlines()
    assert lines[2].endswith("| \tx = call()")
    assert lines[3].endswith("| \t    ^^^^^^")


def test_full_survives_a_missing_file() -> None:
    out = full.render([diagnostic(path="/nonexistent/m.py")])
    assert out.splitlines()[0] == "/nonexistent/m.py:3:5: warning: BN003 a message"


# --- json --------------------------------------------------------------------------


def test_json_contract(project: Path) -> None:
    run = bnlint("models", "--output-format", "json", cwd=project)
    findings = json.loads(run.stdout)
    assert [f["code"] for f in findings] == ["BN001", "BN020", "BN003"]
    assert all(set(f) == {"code", "name", "message", "path", "line", "column", "end_line", "end_column",
                          "severity", "fix", "dynamic", "related"} for f in findings)
    assert (findings[0]["line"], findings[0]["column"], findings[0]["severity"]) == (5, 9, "error")
    assert findings[0]["fix"]["applicability"] == "safe"


# --- sarif -------------------------------------------------------------------------


def test_sarif_is_valid_and_complete(project: Path) -> None:
    run = bnlint("models", "--output-format", "sarif", cwd=project)
    assert run.returncode == 1
    document = json.loads(run.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(document)
    [sarif_run] = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert {rule.code for rule in CATALOG} | {"BN900", "E999", "E902", "E900", "E901"} == {r["id"] for r in rules}
    by_id = {r["id"]: r for r in rules}
    assert by_id["BN001"]["name"] == "axis-mismatch"
    assert by_id["BN001"]["defaultConfiguration"]["level"] == "error"
    assert "## Example" in by_id["BN001"]["help"]["markdown"]
    results = sarif_run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("BN001", "error"), ("BN020", "note"),
                                                            ("BN003", "warning")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "models/axis.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 9, "endLine": 5,
                                  "endColumn": 9 + len("layers.BatchNormalization()")}
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"


def test_sarif_with_no_findings_and_with_odd_paths_is_valid(tmp_path: Path) -> None:
    empty = sarif.document([], RenderContext(root=tmp_path))
    jsonschema.Draft4Validator(SCHEMA).validate(empty)
    assert empty["runs"][0]["results"] == []
    odd = [diagnostic(path=str(tmp_path / "dir with space" / "m#1.py")),
           diagnostic(path="/elsewhere/m.py", code="E999", name="syntax-error", severity=Severity.ERROR),
           diagnostic(code="BN777", name="future-rule")]
    document = sarif.document(odd, RenderContext(root=tmp_path))
    jsonschema.Draft4Validator(SCHEMA).validate(document)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]]
    assert uris[:2] == ["dir%20with%20space/m%231.py", "file:///elsewhere/m.py"]
    assert document["runs"][0]["tool"]["driver"]["rules"][-1]["id"] == "BN777"


def test_schema_rejects_a_broken_document() -> None:
    # The validator is live: a result without a message is not SARIF.
    document = sarif.document([diagnostic()], RenderContext())
    del document["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(document)


# --- github ------------------------------------------------------------------------


def test_github_annotations(project: Path) -> None:
    run = bnlint("models", "--output-format", "github", cwd=project)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("::error file=models/axis.py,line=5,col=9,endLine=5,endColumn=36,"
                               "title=BN001 (axis-mismatch)::BatchNormalization normalizes")
    assert lines[1].startswith("::notice file=models/mixed.py,line=7,")
    assert lines[2].startswith("::warning file=models/mixed.py,line=15,col=5,")
    assert len(lines) == 3


def test_github_escaping() -> None:
    d = diagnostic(message="100% sure\r\nsecond: line, too", path="a,b:c%.py")
    out = github.render([d], RenderContext(root=Path.cwd()))
    assert out == ("::warning file=a%2Cb%3Ac%25.py,line=3,col=5,endLine=4,endColumn=9,"
                   "title=BN003 (dropout-variance-shift)::100%25 sure%0D%0Asecond: line, too\n")


# --- junit -------------------------------------------------------------------------


def test_junit_report(project: Path) -> None:
    run = bnlint("models", "--output-format", "junit", cwd=project)
    root = ET.fromstring(run.stdout)
    [suite] = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "3", "0")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.find("failure") is not None) for c in cases] == [
        ("models/axis.py", True), ("models/mixed.py", True), ("models/mixed.py", True), ("models/clean.py", False)]
    failure = cases[0].find("failure")
    assert failure.get("type") == "BN001" and failure.text.startswith("models/axis.py:5:9: BN001 ")


def test_junit_escapes_markup_and_marks_file_problems_as_errors() -> None:
    nasty = 'a <tag> & "quote" ]]> \x1b'
    out = junit.render([diagnostic(message=nasty), diagnostic(code="E999", name="syntax-error")],
                       RenderContext(files=("m.py", "ok.py")))
    root = ET.fromstring(out)
    cases = root.find("testsuite").findall("testcase")
    assert cases[0].find("failure").get("message").startswith('a <tag> & "quote" ]]>')
    assert cases[1].find("error").get("type") == "E999"
    assert root.get("errors") == "1" and root.get("failures") == "1" and root.get("tests") == "3"


# --- statistics --------------------------------------------------------------------


def test_statistics(project: Path) -> None:
    write(project / "models" / "axis2.py", AXIS_MODEL)
    run = bnlint("models", "--statistics", cwd=project)
    assert run.returncode == 1
    assert [line.split() for line in run.stdout.splitlines()] == [
        ["BN001", "axis-mismatch", "2"], ["BN003", "dropout-variance-shift", "1"], ["BN020", "absorbable-scale", "1"]]
    as_json = json.loads(bnlint("models", "--statistics", "--output-format", "json", cwd=project).stdout)
    assert as_json[0] == {"code": "BN001", "name": "axis-mismatch", "count": 2}
    assert statistics.render([]) == "All checks passed!\n"


# --- colour ------------------------------------------------------------------------


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("tty", "environ", "choice", "expected"), [
    (True, {}, None, True),
    (False, {}, None, False),
    (True, {"NO_COLOR": "1"}, None, False),
    (True, {"NO_COLOR": ""}, None, True),  # the convention: present *and* not empty
    (False, {}, True, True),
    (True, {}, False, False),
])
def test_use_color(tty: bool, environ: dict[str, str], choice: bool | None, expected: bool) -> None:
    assert use_color(_Stream(tty), environ, choice) is expected


def test_color_flag_paints_and_the_text_stays_the_same(project: Path) -> None:
    plain = bnlint("models", cwd=project).stdout
    painted = bnlint("models", "--color", cwd=project).stdout
    assert "\x1b[31;1merror:\x1b[0m \x1b[1mBN001\x1b[0m" in painted
    assert ANSI.sub("", painted) == plain
    assert not ANSI.search(bnlint("models", "--no-color", cwd=project).stdout)


def _run_on_a_tty(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    primary, secondary = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
    try:
        process = subprocess.Popen([sys.executable, "-m", "bnlint", *args], cwd=cwd, env=environment,
                                   stdout=secondary, stderr=subprocess.DEVNULL)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(primary)
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colour_on_a_terminal_unless_no_color(project: Path) -> None:
    assert ANSI.search(_run_on_a_tty(["models"], project, {}))
    assert not ANSI.search(_run_on_a_tty(["models"], project, {"NO_COLOR": "1"}))


def test_rule_catalog_covers_every_rule() -> None:
    codes = [info.code for info in rule_catalog()]
    assert codes[:len(ALL_RULES)] == [rule.code for rule in ALL_RULES]
    assert {"BN900", "E999", "E902"} <= set(codes)


def test_renderers_accept_no_context() -> None:
    d = diagnostic()
    for render in (text.render, full.render, github.render, junit.render, sarif.render, statistics.render):
        assert render([d])


def test_full_marks_fixable_findings_like_text() -> None:
    from bnlint.diagnostics import Applicability, Fix

    d = diagnostic()
    d.fix = Fix("Move the Dropout", Applicability.UNSAFE, ())
    assert "[*]" not in full.render([d]).splitlines()[0]
    assert "warning: BN003 [*] a message" in full.render([d], RenderContext(unsafe_fixes=True)).splitlines()[0]
    assert full.render([d]).splitlines()[0] == text.render([d]).splitlines()[0]
