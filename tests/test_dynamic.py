"""Dynamic mode end to end: the real CLI, real TensorFlow on the CPU, many files per TensorFlow import.

One ``bnlint --dynamic`` run over a project holding every fixture, the
examples and the dynamic rules' documented examples answers most tests below
from its JSON: TensorFlow's import is paid once for all of them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cliutil import Run

pytest.importorskip("tensorflow")
pytest.importorskip("keras")

from bnlint.rules import DYNAMIC_RULES

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "dynamic"
TIMEOUT = 20  # seconds per file: well above a fixture's build, well below the sleeper's nap


def bnlint(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-m", "bnlint", *args], check=False, cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=900)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dynamic")
    for fixture in FIXTURES.glob("*.py"):
        shutil.copy(fixture, root / fixture.name)
    shutil.copytree(ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("*.md", "__pycache__"))
    (root / "rule_examples").mkdir()
    for rule in DYNAMIC_RULES:
        for kind in ("bad", "good"):
            source = getattr(rule, kind).source
            (root / "rule_examples" / f"{rule.code.lower()}_{kind}.py").write_text(source, encoding="utf-8")
    (root / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.bnlint]
        dynamic-entry = ["entry_point.py:build_net(width=8)"]
        dynamic-input-shape = [3, 32, 32]
    """), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def run(project: Path) -> Run:
    return bnlint(".", "--dynamic", "--dynamic-timeout", str(TIMEOUT), "--dynamic-device", "cpu",
                  "--output-format", "json", "--cache-dir", str(project / ".cache"), cwd=project)


@pytest.fixture(scope="module")
def findings(run: Run) -> list[dict]:
    assert run.returncode == 1, run.stderr
    return json.loads(run.stdout)


def of(findings: list[dict], path: str, code: str | None = None) -> list[dict]:
    return [f for f in findings if f["path"] == path and (code is None or f["code"] == code)]


def test_the_first_line_says_that_the_files_code_runs(run: Run) -> None:
    first = run.stderr.splitlines()[0]
    assert first.startswith("bnlint: --dynamic imports each file and runs its code")
    assert f"{TIMEOUT} s limit" in first
    assert sum("imported once" in line for line in run.stderr.splitlines()) == 1  # one TensorFlow import


def test_a_channels_first_model_builds_on_the_cpu_and_confirms_bn001(run: Run, findings: list[dict]) -> None:
    [finding] = of(findings, "nchw_classifier.py")
    assert (finding["code"], finding["line"], finding["dynamic"]) == ("BN001", 13, "confirmed")
    assert finding["dynamic_device"] == "cpu"
    assert "normalizes axis 3 (size 32), the channel axis is 1 (size 16)" in finding["dynamic_reason"]
    assert "nchw_classifier.py: built 1 model on CPU" in run.stderr


def test_a_layout_the_static_pass_got_wrong_is_refuted(findings: list[dict]) -> None:
    [finding] = of(findings, "pinned_layout.py")
    assert (finding["code"], finding["dynamic"]) == ("BN001", "refuted")
    assert "axis 3 is the channel axis (size 16)" in finding["dynamic_reason"]


def test_a_syntax_error_is_reported_once_and_never_imported(run: Run, findings: list[dict]) -> None:
    assert [f["code"] for f in of(findings, "syntax_error.py")] == ["E999"]
    assert "syntax_error.py" not in run.stderr  # no build was tried


@pytest.mark.parametrize(("path", "reason"), [
    ("raises_on_import.py", "import failed: RuntimeError: the dataset folder is missing"),
    ("sleeps_on_import.py", f"timed out after {TIMEOUT} s"),
    ("exits_on_import.py", "exited with status 3 before reporting"),
    ("segfaults_on_import.py", "crashed (SIGSEGV)"),
    ("allocates_on_import.py", "ran out of memory (limit 4096 MiB)"),
])
def test_a_file_that_cannot_be_built_is_one_finding_with_the_reason(findings: list[dict], path: str,
                                                                    reason: str) -> None:
    [finding] = of(findings, path)
    assert (finding["code"], finding["severity"], finding["line"]) == ("BN904", "warning", 1)
    assert reason in finding["message"]


def test_a_weights_download_is_refused_and_reported(findings: list[dict]) -> None:
    [finding] = of(findings, "downloads_weights.py")
    assert (finding["code"], finding["severity"], finding["line"]) == ("BN904", "info", 6)
    assert finding["message"] == "build_classifier was not built: would download weights"


def test_a_builder_that_needs_arguments_is_not_built_and_says_so(findings: list[dict]) -> None:
    [static] = of(findings, "needs_arguments.py", "BN001")
    assert static["dynamic"] == "not-built"
    assert static["dynamic_reason"].startswith("build_unet() needs arguments (input_size, filters)")
    [note] = of(findings, "needs_arguments.py", "BN904")
    assert (note["line"], note["severity"]) == (6, "info")


def test_a_configured_entry_builds_with_its_arguments(findings: list[dict]) -> None:
    [finding] = of(findings, "entry_point.py")
    assert (finding["code"], finding["dynamic"]) == ("BN001", "confirmed")
    assert "size 8" in finding["dynamic_reason"]  # width=8 reached the builder


@pytest.mark.parametrize(("path", "line"), [("module_level_sequential.py", 7), ("subclass_without_builder.py", 10)])
def test_models_without_an_input_shape_build_on_the_configured_one(findings: list[dict], path: str,
                                                                  line: int) -> None:
    [finding] = of(findings, path)
    assert (finding["code"], finding["line"], finding["dynamic"]) == ("BN001", line, "confirmed")
    assert finding["dynamic_reason"].startswith("built on (None, ")


def test_a_global_data_format_does_not_leak_into_the_next_file(findings: list[dict]) -> None:
    [first] = of(findings, "a_sets_channels_first.py")
    assert (first["code"], first["dynamic"]) == ("BN001", "confirmed")
    # Built under the first file's channels_first, the default axis would be wrong here (BN901).
    assert of(findings, "b_default_format.py") == []


def test_every_static_finding_of_the_examples_is_confirmed(run: Run, findings: list[dict]) -> None:
    examples = [f for f in findings if f["path"].startswith("examples/")]
    assert len(examples) >= 10
    # A finding in a custom layer no model of its file uses sits in no buildable model.
    in_models = [f for f in examples if not f.get("dynamic_reason", "").endswith("no model the file builds uses it")]
    assert {(f["path"], f["line"], f["code"], f["dynamic"]) for f in in_models if f["dynamic"] != "confirmed"} == set()
    assert not [f for f in examples if f["code"].startswith("BN9")]  # nothing the static graph missed
    with_bn = [p for p in (ROOT / "examples").glob("*.py") if "BatchNorm" in p.read_text(encoding="utf-8")]
    built = [line for line in run.stderr.splitlines() if line.startswith("bnlint: dynamic: examples/")]
    assert len(built) == len(with_bn) and all(" on CPU in " in line and "not built" not in line for line in built)


@pytest.mark.parametrize("rule", DYNAMIC_RULES, ids=lambda rule: rule.code)
def test_the_dynamic_rules_documented_examples(findings: list[dict], rule) -> None:
    for kind in ("bad", "good"):
        path = f"rule_examples/{rule.code.lower()}_{kind}.py"
        assert len(of(findings, path, rule.code)) == getattr(rule, kind).expect, (path, of(findings, path))


def test_a_second_run_reads_the_cache_and_marks_the_text_output(project: Path, run: Run) -> None:
    again = bnlint("nchw_classifier.py", "pinned_layout.py", "needs_arguments.py", "--dynamic",
                   "--dynamic-device", "cpu", "--cache-dir", str(project / ".cache"), cwd=project)
    assert again.returncode == 1
    assert "imported once" not in again.stderr  # every file came from the cache: no TensorFlow import
    assert again.stderr.count("(cached)") == 3
    lines = again.stdout.splitlines()
    assert any(line.startswith("nchw_classifier.py:13:9:") and "BN001 [*] [confirmed]" in line for line in lines)
    assert any(line.startswith("pinned_layout.py:16:9:") and "[refuted]" in line for line in lines)
    assert any("[not built: build_unet() needs arguments (input_size, filters)" in line for line in lines)


def test_without_tensorflow_dynamic_mode_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text("from keras import layers\nlayers.BatchNormalization()\n")
    hide = "import sys; sys.modules['tensorflow'] = None; from bnlint.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", hide, "--dynamic", "model.py"], check=False, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "bnlint: error: --dynamic needs TensorFlow and Keras 3: pip install 'bnlint[dynamic]'\n"
    assert done.stdout == ""


def test_a_static_run_of_the_same_files_is_unchanged(project: Path) -> None:
    static = bnlint("nchw_classifier.py", "--output-format", "json", "--no-cache", cwd=project)
    [finding] = json.loads(static.stdout)
    assert finding["dynamic"] is None and "dynamic_reason" not in finding


def test_the_dynamic_rules_are_listed_and_explained(tmp_path: Path) -> None:
    listed = bnlint("rules", cwd=tmp_path).stdout
    for code in ("BN901", "BN902", "BN903", "BN904"):
        assert code in listed
    explained = bnlint("rule", "BN901", cwd=tmp_path)
    assert explained.returncode == 0 and "## Needs `--dynamic`" in explained.stdout


@pytest.mark.parametrize(("table", "message"), [
    ('dynamic-entry = ["unet.py"]', "expected 'path/to/file.py:function(arguments)'"),
    ('dynamic-entry = ["unet.py:build(size=open(0))"]', "arguments must be literals"),
    ("dynamic-timeout = 0", "must be more than 0"),
    ('dynamic-device = "tpu"', "invalid value 'tpu'"),
    ("dynamic-input-shape = [224, -1]", "expected a list of positive integers"),
])
def test_bad_dynamic_settings_are_one_line_errors(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.bnlint]\n{table}\n")
    (tmp_path / "model.py").write_text("x = 1\n")
    done = bnlint("model.py", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1
