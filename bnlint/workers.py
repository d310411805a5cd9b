"""Linting many files: the cache first, then a process pool for the files that need a parse.

The parent reads each file once to screen it: a file no enabled rule could fire
on is linted on the spot (that costs microseconds, less than a cache lookup),
the others are looked up in the cache. Only the misses, the files that need a
parse, go to worker processes, as paths: a LibCST tree never crosses a process
boundary, and a worker holds one file at a time, so memory stays flat however
large the tree is. Results come back in discovery order whatever the number of
jobs, and a run with one job or few files to parse starts no pool at all.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import IO

from bnlint import api
from bnlint.cache import ResultCache, content_digest
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic, Edit, Fix
from bnlint.rule import Rule

# Below this many files to parse, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8

Progress = Callable[[int, int], None]
Annotate = Callable[[api.FileResult], None]


def default_jobs() -> int:
    return os.cpu_count() or 1


def lint_files(files: Iterable[Path], settings: Settings, rules: list[Rule], *, jobs: int = 1,
               cache: ResultCache | None = None, progress: Progress | None = None,
               annotate: Annotate | None = None) -> Iterator[api.FileResult]:
    variant = _variant(annotate)
    if jobs <= 1 and progress is None:
        for path in files:  # streaming, one file at a time, as a plain serial run always did
            yield _lint_here(path, settings, rules, cache, annotate)
        return
    paths = list(files)
    # Screen and look up every file first: what is left decides whether a pool pays.
    ready: dict[int, api.FileResult] = {}
    pending: list[tuple[int, Path, str]] = []
    for index, path in enumerate(paths):
        data = api.read_source(path, settings)
        if isinstance(data, api.FileResult):
            ready[index] = data
        elif not api.could_fire(str(path), data, rules):
            ready[index] = api.lint_data(str(path), data, settings, rules)
        else:
            digest = content_digest(data)
            cached = _lookup(cache, path, digest, variant)
            if cached is not None:
                ready[index] = cached
            else:
                pending.append((index, path, digest))
    if jobs <= 1 or len(pending) < MIN_FILES_FOR_POOL:
        linted: Iterator[api.FileResult] = (_lint_here(path, settings, rules, cache, annotate)
                                            for _, path, _ in pending)
    else:
        linted = _lint_in_pool([(path, digest) for _, path, digest in pending], settings, cache, annotate, jobs)
    misses = iter(pending)
    for done in range(len(paths)):
        result = ready.pop(done, None)
        if result is None:
            index, path, _ = next(misses)
            assert index == done
            linting = getattr(progress, "linting", None)
            if linting is not None:
                linting(str(path))  # results come in order: this is the file the run waits for
            result = next(linted)
        if progress is not None:
            progress(done + 1, len(paths))
        yield result


def _variant(annotate: Annotate | None) -> str:
    """What sets the cache entries of an annotated run apart from a plain one's."""
    return "" if annotate is None else f"{annotate.__module__}.{annotate.__qualname__}"


def _lookup(cache: ResultCache | None, path: Path, digest: str, variant: str) -> api.FileResult | None:
    if cache is None:
        return None
    found = cache.get(path, digest, variant)
    if found is None:
        return None
    diagnostics, parsed, dependencies = found
    return api.FileResult(str(path), diagnostics, parsed=parsed, dependencies=dependencies)


def _lint_here(path: Path, settings: Settings, rules: list[Rule], cache: ResultCache | None,
               annotate: Annotate | None) -> api.FileResult:
    """Lint one file in this process, through the cache when there is one."""
    data = api.read_source(path, settings)
    if isinstance(data, api.FileResult):
        return data
    if cache is None or not api.could_fire(str(path), data, rules):
        return _lint_data(path, data, settings, rules, annotate)
    digest = content_digest(data)
    cached = _lookup(cache, path, digest, _variant(annotate))
    if cached is not None:
        return cached
    result = _lint_data(path, data, settings, rules, annotate)
    if result.error is None:
        cache.put(path, digest, result.diagnostics, result.parsed, _variant(annotate), result.dependencies)
    return result


def _lint_data(path: Path, data: bytes, settings: Settings, rules: list[Rule],
               annotate: Annotate | None) -> api.FileResult:
    result = api.lint_data(str(path), data, settings, rules, keep_syntax=annotate is not None)
    if annotate is not None and result.error is None:
        annotate(result)
    result.syntax = None  # the tree stays here: results are cached and cross process boundaries
    return result


def _lint_in_pool(tasks: list[tuple[Path, str]], settings: Settings, cache: ResultCache | None,
                  annotate: Annotate | None, jobs: int) -> Iterator[api.FileResult]:
    workers = min(jobs, len(tasks))
    # Small chunks keep every worker busy to the end; larger ones save round trips on big runs.
    chunksize = max(1, min(16, len(tasks) // (workers * 8)))
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(settings, cache, annotate))
    done = 0
    try:
        for result in executor.map(_lint_in_worker, tasks, chunksize=chunksize):
            done += 1
            yield result
    except BrokenProcessPool:
        # A worker died (killed, or a crash in native code). Which of the files in
        # flight killed it is unknown, so each unfinished file is linted again in a
        # process of its own: only the file that crashes again is reported.
        executor.shutdown(wait=True, cancel_futures=True)
        for task in tasks[done:]:
            yield _lint_isolated(task, settings, cache, annotate)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _lint_isolated(task: tuple[Path, str], settings: Settings, cache: ResultCache | None,
                   annotate: Annotate | None) -> api.FileResult:
    """Lint one file in a process of its own; a crash there is an E900 finding on that file alone."""
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(settings, cache, annotate))
    try:
        return executor.submit(_lint_in_worker, task).result()
    except BrokenProcessPool:
        name = str(task[0])
        message = "internal error while linting: the process linting this file crashed"
        return api.FileResult(name, [api.internal_error_diagnostic(name, message)], error=message)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_worker_state: tuple[Settings, list[Rule], ResultCache | None, Annotate | None] | None = None


def _start_worker(settings: Settings, cache: ResultCache | None, annotate: Annotate | None) -> None:
    global _worker_state
    _worker_state = (settings, api.select_rules(settings), cache, annotate)


def _lint_in_worker(task: tuple[Path, str]) -> api.FileResult:
    assert _worker_state is not None
    settings, rules, cache, annotate = _worker_state
    path, digest = task
    data = api.read_source(path, settings)
    if isinstance(data, api.FileResult):
        return data
    result = _lint_data(path, data, settings, rules, annotate)
    # The parent screened the file as it was then: cache only if it is still the same.
    if cache is not None and result.error is None and content_digest(data) == digest:
        cache.put(path, digest, result.diagnostics, result.parsed, _variant(annotate), result.dependencies)
    return portable(result)


def portable(result: api.FileResult) -> api.FileResult:
    """``result`` without LibCST objects, fit to cross a process boundary.

    A fix keeps what ``Edit.describe`` shows; its targets, nodes of a tree that
    stays in the worker, are dropped (a fix run lints again in its own process).
    """
    return api.FileResult(result.path, [_portable(d) for d in result.diagnostics], result.error, result.parsed,
                          dependencies=result.dependencies)


def _portable(diagnostic: Diagnostic) -> Diagnostic:
    if diagnostic.fix is None:
        return diagnostic
    edits = tuple(Edit(e.kind, None, e.keyword, e.value) for e in diagnostic.fix.edits)
    return replace(diagnostic, fix=Fix(diagnostic.fix.title, diagnostic.fix.applicability, edits))


class ProgressLine:
    """``bnlint: 1200/3970 files`` on one self-erasing line, for long runs on a terminal.

    When one file holds the run up for more than ``SLOW_FILE`` seconds the line
    names it (``linting models/huge.py (3 s)``), whatever the length of the run,
    so a long wait is never a silent one. A watchdog thread redraws it.
    """

    MIN_FILES = 200  # a shorter run ends before the line would be worth reading
    INTERVAL = 0.1  # seconds between redraws
    SLOW_FILE = 1.0  # seconds one file may take before the line names it

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.shown = False
        self.last = 0.0
        self.counts = (0, 0)
        self.current: tuple[str, float] | None = None  # the file the run waits for, and since when
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.watchdog: threading.Thread | None = None

    def __call__(self, done: int, total: int) -> None:
        with self.lock:
            self.counts = (done, total)
            self.current = None
            if total < self.MIN_FILES and not self.shown:
                return
            now = time.monotonic()
            if done < total and now - self.last < self.INTERVAL:
                return
            self.last = now
            self._draw(f"bnlint: {done}/{total} files")

    def linting(self, path: str) -> None:
        """The run now waits for ``path``; past ``SLOW_FILE`` seconds the line says so."""
        with self.lock:
            self.current = (path, time.monotonic())
        if self.watchdog is None:
            self.watchdog = threading.Thread(target=self._watch, name="bnlint-progress", daemon=True)
            self.watchdog.start()

    def _watch(self) -> None:
        while not self.stopped.wait(self.INTERVAL * 2):
            with self.lock:
                if self.current is None:
                    continue
                path, since = self.current
                waited = time.monotonic() - since
                if waited >= self.SLOW_FILE:
                    done, total = self.counts
                    self._draw(f"bnlint: {done}/{total} files, linting {path} ({waited:.0f} s)")

    def _draw(self, text: str) -> None:
        self.stream.write(f"\r{text}\033[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        with self.lock:
            self.current = None
            if self.shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self.shown = False
