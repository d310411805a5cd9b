"""An internal failure is a finding on its file in every output format, and a crash takes no other file with it."""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cliutil import AXIS_MODEL, write

from bnlint.api import lint_paths
from bnlint.config import Settings

ROOT = Path(__file__).resolve().parents[2]

# The command line with the graph builder failing on one file: the kind of bug E900 exists for.
FAILING_RUN = """\
import sys
import bnlint.api
real = bnlint.api.build_graphs
def build_graphs(module, *args, **kwargs):
    if "explode" in module.code:
        raise ZeroDivisionError("a bug in the frontend")
    return real(module, *args, **kwargs)
bnlint.api.build_graphs = build_graphs
from bnlint.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_failing(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", FAILING_RUN, *args], cwd=project, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "boom.py", AXIS_MODEL + "# explode\n")
    write(tmp_path / "stem.py", AXIS_MODEL)
    return tmp_path


def test_text_shows_the_failure_and_never_all_checks_passed(project):
    done = run_failing(project, "boom.py", "--no-cache")
    assert done.returncode == 2
    assert "E900" in done.stdout and "boom.py" in done.stdout and "All checks passed" not in done.stdout
    assert "ZeroDivisionError" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("fix", [[], ["--fix"]], ids=["lint", "fix"])
def test_json_has_the_failure_next_to_the_other_files_findings(project, fix):
    done = run_failing(project, ".", "--no-cache", "--output-format", "json", *fix)
    assert done.returncode == 2
    found = {(Path(f["path"]).name, f["code"]) for f in json.loads(done.stdout)}
    assert ("boom.py", "E900") in found
    assert (("stem.py", "BN001") in found) != bool(fix)


def test_sarif_github_junit_and_full_show_it(project):
    sarif = json.loads(run_failing(project, "boom.py", "--no-cache", "--output-format", "sarif").stdout)
    [sarif_run] = sarif["runs"]
    assert [r["ruleId"] for r in sarif_run["results"]] == ["E900"]
    assert "E900" in {rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]}
    github = run_failing(project, "boom.py", "--no-cache", "--output-format", "github").stdout
    assert github.startswith("::error") and "E900" in github
    junit = ElementTree.fromstring(run_failing(project, "boom.py", "--no-cache", "--output-format", "junit").stdout)
    assert any(failure.get("type") == "E900" for failure in junit.iter("failure")) or \
        any(error.get("type") == "E900" for error in junit.iter("error"))
    assert "E900" in run_failing(project, "boom.py", "--no-cache", "--output-format", "full").stdout


def test_the_new_codes_are_listed_and_explained(project):
    done = subprocess.run([sys.executable, "-m", "bnlint", "rules"], cwd=project, capture_output=True, text=True,
                          timeout=60)
    codes = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:]}
    assert codes["E900"] == "internal-error" and codes["E901"] == "analysis-incomplete"


def segfault_on_marker(result) -> None:
    """A crash in native code while one file is linted, as LibCST's parser crashed on deep nesting."""
    if "crash" in Path(result.path).name:
        ctypes.string_at(0)


def test_a_dead_worker_takes_no_innocent_file_with_it(tmp_path):
    for index in range(12):
        write(tmp_path / f"m{index:02d}.py", AXIS_MODEL)
    write(tmp_path / "m05_crash.py", AXIS_MODEL)
    results = {Path(r.path).name: r for r in lint_paths([str(tmp_path)], Settings(), jobs=2,
                                                          annotate=segfault_on_marker)}
    assert len(results) == 13
    crashed = results.pop("m05_crash.py")
    assert crashed.error is not None and [d.code for d in crashed.diagnostics] == ["E900"]
    for name, result in results.items():
        assert result.error is None and "BN001" in [d.code for d in result.diagnostics], name
