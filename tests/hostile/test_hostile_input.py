"""Input written to crash or hang a linter: each case ends in one finding, and the run goes on."""
from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from cliutil import AXIS_MODEL, bnlint, write

from bnlint.api import lint_file, select_rules
from bnlint.config import Settings
from bnlint.frontend import budget

MENTION = "from keras.layers import BatchNormalization\n"


def findings(run) -> list[dict]:
    return json.loads(run.stdout)


def by_file(run) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in findings(run):
        found.setdefault(Path(item["path"]).name, []).append(item["code"])
    return found


DEEP = {
    "parentheses.py": MENTION + "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "lists.py": MENTION + "x = " + "[" * 3000 + "]" * 3000 + "\n",
    "sum8k.py": MENTION + "x = " + " + ".join(["1"] * 8000) + "\n",
    "sum50k.py": MENTION + "x = " + " + ".join(["1"] * 50_000) + "\n",
    "strings.py": MENTION + "x = (\n" + '    "part"\n' * 3000 + ")\n",
}


def test_deep_nesting_is_one_e902_per_file_and_the_innocent_file_is_linted(tmp_path):
    for name, text in DEEP.items():
        (tmp_path / name).write_text(text)
    write(tmp_path / "stem.py", AXIS_MODEL)
    started = time.monotonic()
    run = bnlint(".", "--no-cache", "--output-format", "json", "--jobs", "2", cwd=tmp_path)
    assert time.monotonic() - started < 60
    assert run.returncode == 1, run.stderr
    found = by_file(run)
    assert {name: found[name] for name in DEEP} == {name: ["E902"] for name in DEEP}
    assert "BN001" in found["stem.py"]
    assert all("nested too deeply" in f["message"] for f in findings(run) if f["code"] == "E902")


def test_a_statement_of_too_many_tokens_is_refused_before_the_parse(tmp_path):
    numbers = ", ".join(str(i % 97) for i in range(70_000))
    (tmp_path / "table.py").write_text(MENTION + f"TABLE = [{numbers}]\n")
    run = bnlint("table.py", "--no-cache", "--output-format", "json", cwd=tmp_path)
    [item] = findings(run)
    assert item["code"] == "E902" and "statement too large" in item["message"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("fix", [False, True], ids=["lint", "fix"])
def test_a_fifo_named_like_a_python_file_is_skipped_with_a_finding(tmp_path, fix):
    os.mkfifo(tmp_path / "x.py")
    write(tmp_path / "stem.py", AXIS_MODEL)
    run = bnlint(".", "--no-cache", "--output-format", "json", *(["--fix"] if fix else []), cwd=tmp_path)
    found = {(Path(f["path"]).name, f["code"]): f for f in findings(run)}
    assert "FIFO" in found["x.py", "E902"]["message"]
    assert stat.S_ISFIFO(os.lstat(tmp_path / "x.py").st_mode)
    assert (("stem.py", "BN001") in found) != fix  # fixed, or reported


FOLDING = {
    "squares.py": "n = 3\n" + "n = n * n\n" * 40,
    "doubling.py": "s = 'ab'\n" + "s = s + s\n" * 40,
    "lists.py": "s = [1]\n" + "s = s + s\n" * 40,
    "huge_range.py": "for i in range(10**20):\n    x = i\n",
    "width.py": "s = '%*d' % (10**9, 1)\n",
}


@pytest.mark.parametrize("name", FOLDING)
def test_constant_folding_stops_at_a_size_and_the_model_is_still_checked(tmp_path, name):
    path = write(tmp_path / name, AXIS_MODEL + FOLDING[name])
    started = time.monotonic()
    result = lint_file(path, Settings(), select_rules(Settings()))
    assert time.monotonic() - started < 20
    assert result.error is None
    assert "BN001" in [d.code for d in result.diagnostics]


def fan_out(levels: int) -> str:
    lines = ["from keras import layers", "", "def h0(x):",
             "    x = layers.Conv2D(8, 3, data_format='channels_first')(x)",
             "    return layers.BatchNormalization()(x)", ""]
    for level in range(1, levels + 1):
        lines += [f"def h{level}(x):", *[f"    x = h{level - 1}(x)"] * 3, "    return x", ""]
    lines += ["def build(inputs):", f"    return h{levels}(inputs)", ""]
    return "\n".join(lines)


def test_helper_fan_out_costs_linear_work_and_keeps_the_real_finding(tmp_path):
    path = write(tmp_path / "fan.py", fan_out(10))  # 3**10 calls of h0 written, eleven helper levels
    started = time.process_time()
    result = lint_file(path, Settings(), select_rules(Settings()))
    assert time.process_time() - started < 15
    assert [d.code for d in result.diagnostics if d.code in ("BN001", "E901")] == ["BN001"]


def test_a_budget_that_cuts_analysis_short_says_so_on_the_file(tmp_path, monkeypatch):
    path = write(tmp_path / "fan.py", fan_out(10))
    monkeypatch.setattr(budget, "FILE_SECONDS", 0.0)  # a machine too slow for any trace
    result = lint_file(path, Settings(), select_rules(Settings()))
    notes = [d for d in result.diagnostics if d.code == "E901"]
    assert len(notes) == 1 and notes[0].severity.label == "info"
    assert "findings in this file may be missing" in notes[0].message


def test_analysis_that_outgrows_its_memory_budget_stops_and_says_so(tmp_path, monkeypatch):
    path = write(tmp_path / "fan.py", fan_out(10))
    monkeypatch.setattr(budget, "FILE_MEMORY_BYTES", -2**40)  # spent before the first step: any process is over it
    result = lint_file(path, Settings(), select_rules(Settings()))
    notes = [d for d in result.diagnostics if d.code == "E901"]
    assert len(notes) == 1 and "GiB of memory" in notes[0].message


def test_the_same_file_named_twice_is_reported_once(tmp_path):
    write(tmp_path / "stem.py", AXIS_MODEL)
    run = bnlint("stem.py", str(tmp_path / "stem.py"), "./stem.py", "--no-cache", "--output-format", "json",
                 cwd=tmp_path)
    assert [f["code"] for f in findings(run)].count("BN001") == 1


def _unprivileged() -> dict:
    """Permissions mean nothing to root: run the command line as nobody then."""
    return {"user": 65534, "group": 65534} if os.geteuid() == 0 else {}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_a_folder_that_cannot_be_entered_is_one_finding(tmp_path, named):
    import subprocess

    project = tmp_path / "project"
    write(project / "stem.py", AXIS_MODEL)
    write(project / "locked" / "inside.py", AXIS_MODEL)
    os.chmod(project / "locked", 0)
    for folder in (tmp_path, project):
        os.chmod(folder, 0o777)
    os.chmod(project / "stem.py", 0o666)
    try:
        target = ["locked", "stem.py"] if named else ["."]
        try:
            done = subprocess.run([sys.executable, "-m", "bnlint", *target, "--no-cache", "--output-format", "json"],
                                  cwd=project, capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
                                  **_unprivileged())
        except PermissionError:
            pytest.skip("the unprivileged user cannot run this interpreter")
    finally:
        os.chmod(project / "locked", 0o755)
    found = {(Path(f["path"]).name, f["code"]): f["message"] for f in json.loads(done.stdout)}
    assert "cannot enter the folder" in found["locked", "E902"]
    assert ("stem.py", "BN001") in found


def test_documented_max_file_size_is_the_code_default():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text(encoding="utf-8")
    row = next(line for line in docs.splitlines() if line.startswith("| `max-file-size`"))
    assert f"`{Settings().max_file_size}`" in row
