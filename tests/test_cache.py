"""The result cache: hits, invalidation, damaged entries, --no-cache and --cache-dir."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bnlint import api
from bnlint.cache import CACHE_DIR_NAME, ResultCache
from bnlint.config import Settings

AXIS_MODEL = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)
    return x
"""

SCALE_MODEL = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Lambda(lambda t: t * 2.0)(x)
    return layers.Conv2D(32, 3)(x)
"""

DROPOUT_MODEL = """\
import keras
from keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dropout(0.3),
    layers.Dense(64, use_bias=False),
    layers.BatchNormalization(),
])
"""


def bnlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bnlint", "--isolated", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "axis.py").write_text(AXIS_MODEL)
    (tmp_path / "scale.py").write_text(SCALE_MODEL)
    (tmp_path / "dropout.py").write_text(DROPOUT_MODEL)
    (tmp_path / "utils.py").write_text("def helper():\n    return 1\n")  # screened out: never cached
    return tmp_path


def lint(paths: list[str], settings: Settings, cache: ResultCache | None, jobs: int = 1) -> list[api.FileResult]:
    return list(api.lint_paths(paths, settings, jobs=jobs, cache=cache))


def entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.json"))


def summary(results: list[api.FileResult]) -> list[tuple[str, int, int, str]]:
    return [(Path(d.path).name, d.line, d.column, d.code) for r in results for d in r.diagnostics]


def test_second_run_reads_every_model_file_from_the_cache(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("cache")
    first = ResultCache(directory, Settings())
    cold = lint([str(project)], Settings(), first)
    assert (first.hits, first.misses, first.writes) == (0, 3, 3)
    assert len(entries(directory)) == 3
    second = ResultCache(directory, Settings())
    warm = lint([str(project)], Settings(), second)
    assert (second.hits, second.misses, second.writes) == (3, 0, 0)
    assert summary(warm) == summary(cold)
    assert [r.parsed for r in warm] == [r.parsed for r in cold]


def test_cached_findings_render_as_fresh_ones(project: Path) -> None:
    cold = bnlint(".", "--output-format", "json", cwd=project)
    warm = bnlint(".", "--output-format", "json", cwd=project)
    fresh = bnlint(".", "--output-format", "json", "--no-cache", cwd=project)
    assert cold.returncode == warm.returncode == fresh.returncode == 1
    assert cold.stdout == warm.stdout == fresh.stdout
    assert any(item["fix"] is not None for item in json.loads(warm.stdout))


def test_the_command_line_reads_its_cache(project: Path) -> None:
    bnlint(".", cwd=project)
    # Doctor every entry: a second run that shows the doctored message read the cache.
    for entry in entries(project / CACHE_DIR_NAME):
        data = json.loads(entry.read_text())
        for item in data["diagnostics"]:
            item["message"] = "from the cache"
        entry.write_text(json.dumps(data))
    warm = bnlint(".", cwd=project)
    assert warm.stdout.count("from the cache") == 3
    fresh = bnlint(".", "--no-cache", cwd=project)
    assert "from the cache" not in fresh.stdout
    assert fresh.stdout.count(": BN00") == 3


def test_a_changed_file_is_linted_again(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("cache")
    lint([str(project)], Settings(), ResultCache(directory, Settings()))
    (project / "axis.py").write_text(AXIS_MODEL.replace("layers.BatchNormalization()", "layers.BatchNormalization(axis=1)"))
    cache = ResultCache(directory, Settings())
    results = lint([str(project)], Settings(), cache)
    assert (cache.hits, cache.misses) == (2, 1)
    assert "BN001" not in {code for *_, code in summary(results)}


def test_changed_settings_miss_the_cache(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("cache")
    lint([str(project)], Settings(), ResultCache(directory, Settings()))
    stricter = Settings(dropout_threshold=0.5)
    cache = ResultCache(directory, stricter)
    results = lint([str(project)], stricter, cache)
    assert cache.hits == 0
    assert "BN003" not in {code for *_, code in summary(results)}  # 0.3 is below the new threshold
    # The first settings keep their own entries.
    again = ResultCache(directory, Settings())
    lint([str(project)], Settings(), again)
    assert again.hits == 3


def test_changed_settings_from_the_command_line_miss_the_cache(project: Path) -> None:
    assert "BN003" in bnlint(".", cwd=project).stdout
    assert "BN003" not in bnlint(".", "--dropout-threshold", "0.5", cwd=project).stdout
    assert "BN003" not in bnlint(".", "--ignore", "BN003", cwd=project).stdout
    assert "BN003" in bnlint(".", cwd=project).stdout


@pytest.mark.parametrize("damage", [b"", b"{not json", b"[]", b'{"digest": 1}', b"\xff\xfe\x00",
                                    b'{"digest": "x", "parsed": true, "diagnostics": [{"code": 1}]}'])
def test_a_damaged_entry_is_a_miss_and_is_replaced(project: Path, tmp_path_factory: pytest.TempPathFactory,
                                                   damage: bytes) -> None:
    directory = tmp_path_factory.mktemp("cache")
    cold = lint([str(project)], Settings(), ResultCache(directory, Settings()))
    for entry in entries(directory):
        entry.write_bytes(damage)
    cache = ResultCache(directory, Settings())
    warm = lint([str(project)], Settings(), cache)
    assert summary(warm) == summary(cold)
    assert (cache.hits, cache.misses, cache.writes) == (0, 3, 3)
    for entry in entries(directory):
        json.loads(entry.read_text())


def test_a_damaged_entry_with_the_right_digest_is_a_miss(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("cache")
    cold = lint([str(project)], Settings(), ResultCache(directory, Settings()))
    for entry in entries(directory):
        data = json.loads(entry.read_text())
        data["diagnostics"] = [{"code": "BN001", "severity": "NOT-A-SEVERITY"}]
        entry.write_text(json.dumps(data))
    cache = ResultCache(directory, Settings())
    assert summary(lint([str(project)], Settings(), cache)) == summary(cold)
    assert cache.hits == 0


def test_damaged_entries_do_not_break_the_command_line(project: Path) -> None:
    expected = bnlint(".", "--no-cache", cwd=project)
    bnlint(".", cwd=project)
    for entry in entries(project / CACHE_DIR_NAME):
        entry.write_text("garbage")
    run = bnlint(".", cwd=project)
    assert (run.returncode, run.stdout, run.stderr) == (expected.returncode, expected.stdout, expected.stderr)


def test_no_cache_neither_reads_nor_writes(project: Path) -> None:
    run = bnlint(".", "--no-cache", cwd=project)
    assert run.returncode == 1
    assert not (project / CACHE_DIR_NAME).exists()


def test_the_cache_lives_in_the_project_root(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.bnlint]\n")
    sub = project / "models"
    sub.mkdir()
    (sub / "axis.py").write_text(AXIS_MODEL)
    run = subprocess.run([sys.executable, "-m", "bnlint", "axis.py"], cwd=sub, capture_output=True, text=True)
    assert run.returncode == 1
    assert (project / CACHE_DIR_NAME / "CACHEDIR.TAG").exists()
    assert (project / CACHE_DIR_NAME / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not (sub / CACHE_DIR_NAME).exists()


def test_without_a_config_the_cache_is_in_the_current_folder(project: Path) -> None:
    bnlint("axis.py", cwd=project)
    assert len(entries(project / CACHE_DIR_NAME)) == 1


def test_cache_dir_flag(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "cache"
    bnlint(".", "--cache-dir", str(elsewhere), cwd=project)
    assert len(entries(elsewhere)) == 3
    assert not (project / CACHE_DIR_NAME).exists()


def test_internal_errors_are_not_cached(project: Path, tmp_path_factory: pytest.TempPathFactory,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> api.FileResult:
        raise ValueError("boom")

    directory = tmp_path_factory.mktemp("cache")
    with monkeypatch.context() as patch:
        patch.setattr(api, "lint_source", broken)
        cache = ResultCache(directory, Settings())
        results = lint([str(project)], Settings(), cache)
    assert all(r.error is not None for r in results)
    assert cache.writes == 0 and entries(directory) == []
    again = ResultCache(directory, Settings())
    assert all(r.error is None for r in lint([str(project)], Settings(), again))
    assert again.writes == 3


def test_an_unwritable_cache_folder_is_not_an_error(project: Path) -> None:
    blocked = project / "blocked"
    blocked.write_text("a file where the cache folder would go")
    run = bnlint(".", "--cache-dir", str(blocked / "cache"), cwd=project)
    assert run.returncode == 1
    assert run.stderr == ""
    assert run.stdout.count(": BN00") == 3


def test_entries_are_written_whole(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("cache")
    lint([str(project)], Settings(), ResultCache(directory, Settings()))
    leftovers = [p for p in directory.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    if os.name == "posix":
        assert all(entry.stat().st_size > 0 for entry in entries(directory))
