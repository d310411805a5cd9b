"""A warm run replays the last identical run's output, and only while nothing it depended on changed."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cliutil import AXIS_MODEL, write

CLEAN = "from keras import layers\n\nx = layers.Dense(3)\n"


def age(*paths: Path, seconds: float = 3600) -> None:
    """Set the paths' times in the past: a file changed a moment ago is never stamped (it could change again unseen)."""
    when = time.time() - seconds
    for path in paths:
        os.utime(path, (when, when))


def engine_loaded(run_stderr: str) -> bool:
    """Whether ``python -X importtime`` saw LibCST imported."""
    return "libcst" in run_stderr


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root / "pkg" / "model.py", AXIS_MODEL)
    write(root / "pkg" / "clean.py", CLEAN)
    age(*(root / "pkg").iterdir(), root / "pkg", root)
    return root


def traced(*args: str | os.PathLike[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command, with Python reporting every module it imports on stderr."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "bnlint", *map(str, args)], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def lint(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return traced("--isolated", "--cache-dir", root.parent / "cache", "pkg", *extra, cwd=root)


def test_an_unchanged_tree_replays_the_output_without_loading_the_engine(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = run(root)
    assert first.returncode == 1 and "BN001" in first.stdout
    second = run(root)
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert not second.loaded and first.loaded


def test_an_edited_file_is_linted_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    model = root / "pkg" / "model.py"
    model.write_text(CLEAN, encoding="utf-8")
    age(model, seconds=1800)  # another time, the same size or not: the stamp differs
    again = run(root)
    assert again.loaded and again.returncode == 0 and "BN001" not in again.stdout


def test_a_file_added_in_a_new_subfolder_is_found(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    sub = root / "pkg" / "sub"
    write(sub / "more.py", AXIS_MODEL)
    age(sub / "more.py", sub, root / "pkg", seconds=1800)
    again = run(root)
    assert again.loaded and "more.py" in again.stdout


def test_a_deleted_file_is_noticed(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    (root / "pkg" / "model.py").unlink()
    age(root / "pkg", seconds=1800)
    again = run(root)
    assert again.loaded and again.returncode == 0


def _blocks_project(root: Path) -> None:
    """A model whose BN (axis=1 after a channels-last conv: BN001) is built in a sibling module."""
    write(root / "pkg" / "__init__.py", "")
    write(root / "pkg" / "blocks.py", """\
        from keras import layers

        def block(x):
            return layers.BatchNormalization(axis=1)(x)
        """)
    write(root / "pkg" / "net.py", """\
        from keras import layers
        from .blocks import block

        def build(inputs):
            return block(layers.Conv2D(8, 3)(inputs))
        """)


def test_a_changed_imported_module_is_noticed(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _blocks_project(root)
    age(*(root / "pkg").iterdir(), root / "pkg", root)
    first = run(root)
    assert "BN001" in first.stdout
    blocks = root / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text().replace("axis=1", "axis=-1"), encoding="utf-8")
    age(blocks, seconds=1800)
    again = run(root)
    assert again.loaded and "BN001" not in again.stdout


def test_a_record_made_from_cached_results_still_stamps_their_imported_modules(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _blocks_project(root)
    run(root)  # files changed a moment ago: results cached, no record yet
    age(*(root / "pkg").iterdir(), root / "pkg", root)
    assert "BN001" in run(root).stdout  # from the per-file cache; this run writes the record
    blocks = root / "pkg" / "blocks.py"
    blocks.write_text(blocks.read_text().replace("axis=1", "axis=-1"), encoding="utf-8")
    age(blocks, seconds=1800)
    again = run(root)
    assert again.loaded and "BN001" not in again.stdout


def test_other_flags_or_settings_are_another_record(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    ignored = run(root, "--ignore", "BN001")
    assert ignored.loaded and ignored.returncode == 0
    config = write(root / "bnlint.toml", 'ignore = ["BN001"]\n')
    age(config, root, seconds=1800)
    configured = traced("--cache-dir", root.parent / "cache", "pkg", cwd=root)
    assert engine_loaded(configured.stderr) and configured.returncode == 0


def test_a_damaged_record_is_a_full_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = run(root)
    (record,) = (root.parent / "cache" / "runs").iterdir()
    for damage in ("{not json", '{"output": 1}', '{"output": "x", "code": 0, "stamps": [[1, 2, 3]]}'):
        record.write_text(damage, encoding="utf-8")
        again = run(root)
        assert again.loaded and (again.returncode, again.stdout) == (first.returncode, first.stdout)
    record.unlink()
    os.mkfifo(record)  # a FIFO planted as the record must not block
    again = run(root)
    assert again.loaded and again.stdout == first.stdout


def test_files_changed_a_moment_ago_are_not_recorded(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "pkg" / "model.py", AXIS_MODEL)
    run(root)
    assert not (root.parent / "cache" / "runs").exists() or not any((root.parent / "cache" / "runs").iterdir())


def test_fix_and_no_cache_runs_are_never_replayed(tmp_path: Path) -> None:
    root = project(tmp_path)
    run(root)
    assert run(root, "--no-cache").loaded
    assert run(root, "--fix").loaded
    assert "axis=1" in (root / "pkg" / "model.py").read_text()  # the fix was made, not replayed


class Outcome:
    def __init__(self, returncode: int, stdout: str, loaded: bool) -> None:
        self.returncode, self.stdout, self.loaded = returncode, stdout, loaded


def run(root: Path, *extra: str) -> Outcome:
    done = lint(root, *extra)
    assert "Traceback" not in done.stderr, done.stderr
    return Outcome(done.returncode, done.stdout, engine_loaded(done.stderr))
