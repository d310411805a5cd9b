"""The process pool: same output as a serial run, byte for byte; results fit to cross processes; progress."""
from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bnlint import api, workers
from bnlint.config import Settings

TEMPLATES = [
    # BN001: a channels_first conv, then BN on the last axis.
    """from keras import layers

def block_{i}(inputs):
    x = layers.Conv2D({f}, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)
""",
    # BN002 with a safe fix, in a Sequential list: a Lambda repeats BN's scale.
    """import keras
from keras import layers

model_{i} = keras.Sequential([
    layers.Conv2D({f}, 3),
    layers.BatchNormalization(),
    layers.Lambda(lambda t: t * 0.5),
    layers.ReLU(),
])
""",
    # BN003: dropout before BN.
    """import keras
from keras import layers

model_{i} = keras.Sequential()
model_{i}.add(layers.Dense({f}, activation="relu"))
model_{i}.add(layers.Dropout(0.5))
model_{i}.add(layers.BatchNormalization())
""",
    # Clean model code.
    """from keras import layers

def head_{i}(x):
    x = layers.Conv2D({f}, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)
""",
    # Not model code: screened out before any parse.
    """def add_{i}(a, b):
    return a + b + {f}
""",
    # A syntax error in a file that mentions BN.
    """from keras import layers
x = layers.BatchNormalization(  # {i} {f}
""",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for i in range(30):
        folder = root / f"pkg{i % 4}"
        folder.mkdir(exist_ok=True)
        (folder / f"model_{i:02d}.py").write_text(TEMPLATES[i % len(TEMPLATES)].format(i=i, f=8 * (i + 1)))
    return root


def bnlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bnlint", "--isolated", *args], cwd=cwd,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_parallel_output_is_the_serial_output_byte_for_byte(tree: Path, output_format: str) -> None:
    serial = bnlint(".", "-j", "1", "--no-cache", "--output-format", output_format, cwd=tree)
    assert serial.returncode == 1
    for jobs in ("2", "4", "7"):
        parallel = bnlint(".", "-j", jobs, "--no-cache", "--output-format", output_format, cwd=tree)
        assert (parallel.returncode, parallel.stdout, parallel.stderr) == \
            (serial.returncode, serial.stdout, serial.stderr), f"--jobs {jobs}"


def test_warm_parallel_output_is_the_serial_output(tree: Path, tmp_path: Path) -> None:
    serial = bnlint(".", "-j", "1", "--no-cache", cwd=tree)
    cold = bnlint(".", "-j", "4", "--cache-dir", str(tmp_path), cwd=tree)
    warm = bnlint(".", "-j", "4", "--cache-dir", str(tmp_path), cwd=tree)
    assert serial.stdout == cold.stdout == warm.stdout
    assert serial.returncode == cold.returncode == warm.returncode == 1


def test_every_rule_finds_the_same_cold_serial_cold_parallel_and_replayed_warm(tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "aged"
    shutil.copytree(tree, copy)
    past = time.time() - 3600  # files that changed a moment ago are never replayed: age them
    for path in [copy, *copy.rglob("*")]:
        os.utime(path, (past, past))
    every = ("--select", "ALL", "--output-format", "json")
    serial = bnlint(".", *every, "-j", "1", "--no-cache", cwd=copy)
    cold = bnlint(".", *every, "-j", "2", "--cache-dir", str(tmp_path / "cache"), cwd=copy)
    warm = subprocess.run([sys.executable, "-X", "importtime", "-m", "bnlint", "--isolated", ".", *every, "-j", "2",
                           "--cache-dir", str(tmp_path / "cache")], cwd=copy, capture_output=True, timeout=120)
    assert b"libcst" not in warm.stderr  # replayed, not linted again
    assert serial.stdout == cold.stdout == warm.stdout and json.loads(serial.stdout)
    assert serial.returncode == cold.returncode == warm.returncode == 1


def test_results_come_in_discovery_order_whatever_the_jobs(tree: Path) -> None:
    serial = [r.path for r in api.lint_paths([str(tree)], Settings(), jobs=1)]
    parallel = [r.path for r in api.lint_paths([str(tree)], Settings(), jobs=3)]
    assert parallel == serial == sorted(serial)
    assert len(serial) == 30


def test_results_from_workers_hold_no_libcst_objects(tree: Path) -> None:
    results = list(api.lint_paths([str(tree)], Settings(), jobs=2))
    fixes = [d.fix for r in results for d in r.diagnostics if d.fix is not None]
    assert fixes
    for fix in fixes:
        assert all(edit.target is None and edit.anchor is None for edit in fix.edits)
    assert pickle.loads(pickle.dumps(results)) == results
    serial = list(api.lint_paths([str(tree)], Settings(), jobs=1))
    assert [[(d.code, d.line, d.message, d.fix and [e.describe() for e in d.fix.edits]) for d in r.diagnostics]
            for r in results] == \
        [[(d.code, d.line, d.message, d.fix and [e.describe() for e in d.fix.edits]) for d in r.diagnostics]
         for r in serial]


def test_portable_strips_edit_targets_but_keeps_what_renderers_show(tree: Path) -> None:
    result = api.lint_file(tree / "pkg1" / "model_01.py", Settings(), api.select_rules(Settings()))
    assert any(e.target is not None for d in result.diagnostics if d.fix for e in d.fix.edits)
    portable = workers.portable(result)
    pickle.dumps(portable)
    assert [e.describe() for d in portable.diagnostics if d.fix for e in d.fix.edits] == \
        [e.describe() for d in result.diagnostics if d.fix for e in d.fix.edits]


def test_jobs_must_be_positive(tree: Path) -> None:
    run = bnlint(".", "-j", "0", cwd=tree)
    assert run.returncode == 2
    assert b"--jobs" in run.stderr


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    for i in range(workers.ProgressLine.MIN_FILES + 10):
        (tmp_path / f"m{i:03d}.py").write_text(f"VALUE = {i}\n")
    run = bnlint(".", "--no-cache", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stderr == b""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_long_run() -> None:
    stream = Terminal()
    progress = workers.ProgressLine(stream)
    total = workers.ProgressLine.MIN_FILES
    for done in range(1, total + 1):
        progress(done, total)
    assert f"\rbnlint: {total}/{total} files" in stream.getvalue()
    progress.clear()
    assert stream.getvalue().endswith("\r\033[K")


def test_no_progress_line_on_a_short_run() -> None:
    stream = Terminal()
    progress = workers.ProgressLine(stream)
    for done in range(1, 11):
        progress(done, 10)
    progress.clear()
    assert stream.getvalue() == ""


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_progress_line_goes_to_a_terminal_stderr_only(tmp_path: Path) -> None:
    import pty

    for i in range(workers.ProgressLine.MIN_FILES + 10):
        (tmp_path / f"m{i:03d}.py").write_text(f"VALUE = {i}\n")
    leader, follower = pty.openpty()
    try:
        run = subprocess.run([sys.executable, "-m", "bnlint", "--isolated", "--no-cache", "."], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=follower, timeout=120)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert run.returncode == 0
    total = workers.ProgressLine.MIN_FILES + 10
    assert f"bnlint: {total}/{total} files".encode() in shown
    assert b"bnlint:" not in run.stdout


def mixed_tree(root: Path, models: int, plain: int) -> Path:
    """``models`` files that need a parse, then ``plain`` files the prefilter screens out."""
    root.mkdir(exist_ok=True)
    for i in range(models):
        (root / f"a{i:03d}.py").write_text(TEMPLATES[0].format(i=i, f=8))
    for i in range(plain):
        (root / f"b{i:03d}.py").write_text(TEMPLATES[4].format(i=i, f=8))
    return root


class Screens:
    """``api.could_fire`` counted per process and file; forked workers write to the same log."""

    def __init__(self, log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = log
        original = api.could_fire

        def could_fire(name: str, data: bytes, rules: list) -> bool:
            with open(log, "a") as out:
                out.write(f"{os.getpid()} {Path(name).name}\n")
            return original(name, data, rules)

        monkeypatch.setattr(api, "could_fire", could_fire)

    def counts(self) -> dict[tuple[int, str], int]:
        found: dict[tuple[int, str], int] = {}
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            pid, name = line.split()
            found[int(pid), name] = found.get((int(pid), name), 0) + 1
        return found


def test_without_a_cache_the_workers_screen_the_files_after_the_pool_starts(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    tree = mixed_tree(tmp_path / "tree", workers.MIN_FILES_FOR_POOL, 60)
    screens = Screens(tmp_path / "screens.log", monkeypatch)
    results = list(api.lint_paths([str(tree)], Settings(), jobs=2))
    assert [Path(r.path).name for r in results] == sorted(p.name for p in tree.iterdir())
    counts = screens.counts()
    parent = {name for pid, name in counts if pid == os.getpid()}
    # The parent screened only until it knew the pool pays: the model files that come first.
    assert parent == {f"a{i:03d}.py" for i in range(workers.MIN_FILES_FOR_POOL)}
    # Every other file was screened once, in a worker, inside the lint itself.
    in_workers = {(pid, name): n for (pid, name), n in counts.items() if pid != os.getpid()}
    assert set(in_workers.values()) == {1}
    assert {name for _, name in in_workers} == {p.name for p in tree.iterdir()}


def test_with_a_cache_the_parent_screens_and_a_worker_screens_no_file_twice(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from bnlint.cache import ResultCache

    tree = mixed_tree(tmp_path / "tree", 3 * workers.MIN_FILES_FOR_POOL, 30)
    screens = Screens(tmp_path / "screens.log", monkeypatch)
    cache = ResultCache(tmp_path / "cache", Settings())
    cold = list(api.lint_paths([str(tree)], Settings(), jobs=2, cache=cache))
    counts = screens.counts()
    models = {f"a{i:03d}.py" for i in range(3 * workers.MIN_FILES_FOR_POOL)}
    assert {name for pid, name in counts if pid == os.getpid()} == {p.name for p in tree.iterdir()}
    in_workers = {(pid, name): n for (pid, name), n in counts.items() if pid != os.getpid()}
    assert set(in_workers.values()) == {1} and {name for _, name in in_workers} == models
    assert len(list((tmp_path / "cache").rglob("*.json"))) == len(models)  # every miss was stored
    warm = list(api.lint_paths([str(tree)], Settings(), jobs=2, cache=ResultCache(tmp_path / "cache", Settings())))
    assert [(r.path, r.diagnostics) for r in warm] == [(r.path, r.diagnostics) for r in cold]


@pytest.mark.parametrize(("models", "pool"), [(workers.MIN_FILES_FOR_POOL - 1, False),
                                              (workers.MIN_FILES_FOR_POOL, True)])
def test_a_pool_starts_only_when_enough_files_need_a_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          models: int, pool: bool) -> None:
    tree = mixed_tree(tmp_path, models, 40)
    started = []
    real = workers.ProcessPoolExecutor

    def executor(*args: object, **kwargs: object) -> object:
        started.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(workers, "ProcessPoolExecutor", executor)
    results = list(api.lint_paths([str(tree)], Settings(), jobs=4))
    assert started == ([4] if pool else [])
    assert sum("BN001" in [d.code for d in r.diagnostics] for r in results) == models


def test_progress_hears_of_every_file_in_order_and_of_the_files_it_waits_for(tree: Path, tmp_path: Path) -> None:
    from bnlint.cache import ResultCache

    heard: list[tuple[int, int]] = []
    waited: list[str] = []

    class Progress:
        def __call__(self, done: int, total: int) -> None:
            heard.append((done, total))

        def linting(self, path: str) -> None:
            waited.append(path)

    # With a cache the parent screens every file, so only those that need a parse go to the pool.
    results = list(api.lint_paths([str(tree)], Settings(), jobs=2, progress=Progress(),
                                  cache=ResultCache(tmp_path, Settings())))
    assert heard == [(done, 30) for done in range(1, 31)]
    order = [r.path for r in results]
    parsed = [path for path in order if "add_" not in Path(path).read_text()]
    # Only a file handed to the pool is waited for; each at most once, in discovery order.
    assert len(waited) == len(set(waited)) and set(waited) <= set(parsed)
    assert waited == sorted(waited, key=order.index)


def segfault_on_marker(result: api.FileResult) -> None:
    """A crash in native code while one file is linted, as a parser crash on deep nesting would be."""
    if "crash" in Path(result.path).name:
        import ctypes

        ctypes.string_at(0)


def test_a_dead_worker_costs_a_process_of_its_own_only_for_files_that_need_a_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = mixed_tree(tmp_path / "tree", workers.MIN_FILES_FOR_POOL, 300)
    (tree / "b150_crash.py").write_text(TEMPLATES[0].format(i=0, f=8))  # among the plain files, well after the start
    (tree / "c000.py").write_text(TEMPLATES[0].format(i=0, f=8))  # after the crash: linted as usual
    isolated: list[str] = []
    real = workers._lint_isolated

    def lint_isolated(task: workers.Task, *args: object) -> api.FileResult:
        isolated.append(task[0].name)
        return real(task, *args)

    monkeypatch.setattr(workers, "_lint_isolated", lint_isolated)
    results = {Path(r.path).name: r for r in api.lint_paths([str(tree)], Settings(), jobs=2,
                                                            annotate=segfault_on_marker)}
    assert len(results) == workers.MIN_FILES_FOR_POOL + 302
    crashed = results.pop("b150_crash.py")
    assert crashed.error is not None and [d.code for d in crashed.diagnostics] == ["E900"]
    assert all(r.error is None for r in results.values())
    assert {name for name, r in results.items() if "BN001" in [d.code for d in r.diagnostics]} == \
        {f"a{i:03d}.py" for i in range(workers.MIN_FILES_FOR_POOL)} | {"c000.py"}
    # The files lost with the worker were screened again here: only the one that needs a parse went alone.
    assert "b150_crash.py" in isolated and all(not name.startswith("b") or "crash" in name for name in isolated)


def test_a_long_run_renews_its_workers_and_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = mixed_tree(tmp_path / "tree", 3 * workers.MIN_FILES_FOR_POOL, 120)
    serial = [(r.path, workers.portable(r).diagnostics) for r in api.lint_paths([str(tree)], Settings(), jobs=1)]
    monkeypatch.setattr(workers, "FILES_PER_WORKER", 16)
    monkeypatch.setattr(workers, "FILES_PER_CHUNK", 8)
    screens = Screens(tmp_path / "screens.log", monkeypatch)
    parallel = [(r.path, r.diagnostics) for r in api.lint_paths([str(tree)], Settings(), jobs=2)]
    assert parallel == serial
    in_workers = [(pid, name) for (pid, name), n in screens.counts().items() for _ in range(n)
                  if pid != os.getpid()]
    # 144 files at 16 per worker: the two first workers were replaced several times over.
    assert len({pid for pid, _ in in_workers}) >= 6
    # A renewal loses no chunk and hands none out twice: each file went to exactly one worker, once.
    assert sorted(name for _, name in in_workers) == sorted(p.name for p in tree.iterdir())
