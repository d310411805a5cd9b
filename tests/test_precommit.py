"""The hooks in .pre-commit-hooks.yaml, installed and run by the real pre-commit tool."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

BAD = textwrap.dedent("""\
    from tensorflow import keras
    from tensorflow.keras import layers

    model = keras.Sequential([
        layers.Conv2D(32, 3, data_format="channels_first"),
        layers.BatchNormalization(),
        layers.ReLU(),
    ])
""")

CLEAN = textwrap.dedent("""\
    from tensorflow import keras
    from tensorflow.keras import layers

    model = keras.Sequential([
        layers.Conv2D(32, 3, data_format="channels_first"),
        layers.BatchNormalization(axis=1),
        layers.ReLU(),
    ])
""")


def _pre_commit() -> list[str]:
    beside = Path(sys.executable).with_name("pre-commit")
    if beside.exists():
        return [str(beside)]
    if shutil.which("pre-commit"):
        return ["pre-commit"]
    pytest.skip("pre-commit is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository with one bad and one clean model file committed, and a private PRE_COMMIT_HOME."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("precommit")
    work = root / "project"
    work.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(root / "pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    (work / "bad_model.py").write_text(BAD)
    (work / "clean_model.py").write_text(CLEAN)
    # A folder the config excludes: pre-commit still passes its files by name.
    (work / "pyproject.toml").write_text('[tool.bnlint]\nextend-exclude = ["generated"]\n')
    (work / "generated").mkdir()
    (work / "generated" / "bad_model.py").write_text(BAD)
    for command in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "models"]):
        subprocess.run(command, cwd=work, env=env, check=True, capture_output=True)
    return work, env


def _try_repo(project: tuple[Path, dict[str, str]], hook: str, *files: str) -> subprocess.CompletedProcess[str]:
    work, env = project
    # try-repo installs this repository (its working tree) into a fresh virtualenv, as a user's pre-commit would.
    return subprocess.run([*_pre_commit(), "try-repo", str(REPO), hook, "--verbose", "--files", *files],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)


def test_check_hook_fails_on_a_bad_file(project: tuple[Path, dict[str, str]]) -> None:
    run = _try_repo(project, "bnlint", "bad_model.py")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "bad_model.py:6:5: error: BN001" in run.stdout
    assert "Failed" in run.stdout


def test_check_hook_passes_on_a_clean_file(project: tuple[Path, dict[str, str]]) -> None:
    run = _try_repo(project, "bnlint", "clean_model.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Passed" in run.stdout


def test_check_hook_passes_on_a_bad_file_in_an_excluded_folder(project: tuple[Path, dict[str, str]]) -> None:
    run = _try_repo(project, "bnlint", "generated/bad_model.py", "clean_model.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Passed" in run.stdout
    assert "BN001" not in run.stdout
    # The same file outside pre-commit, named without --force-exclude, is linted: named files win by default.
    work, env = project
    direct = subprocess.run([sys.executable, "-m", "bnlint", "generated/bad_model.py"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=120)
    assert direct.returncode == 1 and "BN001" in direct.stdout, direct.stdout + direct.stderr


def _has_fix_flag() -> bool:
    help_text = subprocess.run([sys.executable, "-m", "bnlint", "--help"], capture_output=True, text=True).stdout
    return "--fix" in help_text


def test_fix_hook_rewrites_the_bad_file(project: tuple[Path, dict[str, str]]) -> None:
    if not _has_fix_flag():
        pytest.skip("this bnlint has no --fix yet: the bnlint-fix hook has nothing to run")
    work, _ = project
    run = _try_repo(project, "bnlint-fix", "bad_model.py")
    # pre-commit fails a hook that changed files, so the user can review and stage the fix.
    assert run.returncode == 1, run.stdout + run.stderr
    assert "files were modified by this hook" in run.stdout
    assert (work / "bad_model.py").read_text() == CLEAN
    again = _try_repo(project, "bnlint", "bad_model.py")
    assert again.returncode == 0, again.stdout + again.stderr
