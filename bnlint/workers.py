"""Linting many files: the cache first, then a process pool for the files that need a parse.

A run with more than one job starts its workers as soon as it knows the pool pays
(``MIN_FILES_FOR_POOL`` files that need a parse), and from then on the parent
hands files to the workers while it goes on reading the tree, so no core waits
for a serial pass over every file. Files go as paths, in chunks of neighbours in
discovery order: a model's sibling block modules, parsed by the worker that lints
the first of the neighbours, are reused for the rest of them. A LibCST tree never
crosses a process boundary, and the parent never holds more than one file's bytes.

Who screens a file (the prefilter, ``api.could_fire``) depends on the cache:

- without one, a worker reads and lints each file it is given, and the screen runs
  there, once, inside ``api.lint_data``;
- with one, the parent screens each file and looks up those that could fire (a
  lookup is only worth it for them), and only the misses go to the workers.

Results come back in discovery order whatever the number of jobs; a run with one
job, or with few files to parse, starts no pool at all.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Union

from bnlint import api
from bnlint.cache import ResultCache, content_digest
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic, Edit, Fix
from bnlint.rule import Rule

# Below this many files to parse, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8
# The most files in one chunk: a file the parent screened needs a parse (tens of
# milliseconds); one it did not is mostly screened out in the worker (well under one).
# Larger chunks keep more neighbours with one worker; smaller ones balance the end of a run.
PARSES_PER_CHUNK = 16
FILES_PER_CHUNK = 128
# Chunks handed to the pool and not finished, per worker: enough that no worker waits
# for the parent, few enough that a crashed worker leaves little to lint again alone.
CHUNKS_IN_FLIGHT = 3
# Files one worker is handed before its pool is replaced by a fresh one (forked from the
# parent, which holds no tree). A long-lived worker's heap fragments: the same large file
# parsed again late in a run peaked 30% higher than early on, so without renewal a worker's
# memory grew with the tree. Each renewal waits for the chunks in flight; on the corpus
# benchmark that cost no time measurable above the machine's noise.
FILES_PER_WORKER = 512

Progress = Callable[[int, int], None]
Annotate = Callable[[api.FileResult], None]
# A file for a worker, and the content digest under which its result is cached:
# None when the run has no cache (and the worker screens the file itself).
Task = tuple[Path, Union[str, None]]


def default_jobs() -> int:
    return os.cpu_count() or 1


def lint_files(files: Iterable[Path], settings: Settings, rules: list[Rule], *, jobs: int = 1,
               cache: ResultCache | None = None, progress: Progress | None = None,
               annotate: Annotate | None = None) -> Iterator[api.FileResult]:
    if jobs > 1:
        yield from _OrderedRun(list(files), settings, rules, jobs, cache, progress, annotate).results()
        return
    if progress is None:
        for path in files:  # streaming, one file at a time, as a plain serial run always did
            yield _lint_here(path, settings, rules, cache, annotate)
        return
    paths = list(files)  # the progress line needs the total
    linting = getattr(progress, "linting", None)
    for done, path in enumerate(paths, 1):
        if linting is not None:
            linting(str(path))
        result = _lint_here(path, settings, rules, cache, annotate)
        progress(done, len(paths))
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


def _screen(path: Path, settings: Settings, rules: list[Rule], cache: ResultCache | None,
            variant: str) -> api.FileResult | Task:
    """The file's result when it needs no parse (unreadable, screened out, cached), else its task."""
    data = api.read_source(path, settings)
    if isinstance(data, api.FileResult):
        return data
    if not api.could_fire(str(path), data, rules):
        # Cheaper here than a round trip, though ``lint_data`` screens the file again (it
        # cannot be handed the verdict): still unused suppressions may need reporting.
        return api.lint_data(str(path), data, settings, rules)
    if cache is None:
        return (path, None)
    digest = content_digest(data)
    return _lookup(cache, path, digest, variant) or (path, digest)


def _lint_task(task: Task, settings: Settings, rules: list[Rule], cache: ResultCache | None,
               annotate: Annotate | None) -> api.FileResult:
    """Lint a file handed over as a task; cache the result when the file is still as it was screened."""
    path, digest = task
    data = api.read_source(path, settings)
    if isinstance(data, api.FileResult):
        return data
    result = _lint_data(path, data, settings, rules, annotate)
    if cache is not None and digest is not None and result.error is None and content_digest(data) == digest:
        cache.put(path, digest, result.diagnostics, result.parsed, _variant(annotate), result.dependencies)
    return result


@dataclass(eq=False)
class _Chunk:
    """Neighbouring tasks for one worker, and what became of them."""

    tasks: list[Task] = field(default_factory=list)
    future: Future[list[api.FileResult]] | None = None  # None: not handed over yet
    executor: ProcessPoolExecutor | None = None  # the pool it went to
    results: list[api.FileResult] | None = None
    lost: bool = False  # its pool broke before it finished: each file is linted again alone


# What the run yields next, in discovery order: a result at hand, or a file of a chunk.
_Entry = Union[api.FileResult, tuple[_Chunk, int]]


class _OrderedRun:
    """One run with ``jobs`` > 1: screen or hand over each file in turn, yield the results in order.

    The parent does three things in one loop and never waits while it has one of
    them to do: it yields the results at the front of the order as they come in,
    it reads (or, when workers screen, only lists) the next file, and it hands
    chunks to the pool. It waits only when every worker has work queued, or when
    nothing is left but waiting.
    """

    def __init__(self, paths: list[Path], settings: Settings, rules: list[Rule], jobs: int,
                 cache: ResultCache | None, progress: Progress | None, annotate: Annotate | None) -> None:
        self.paths = paths
        self.settings = settings
        self.rules = rules
        self.jobs = jobs
        self.cache = cache
        self.progress = progress
        self.annotate = annotate
        self.variant = _variant(annotate)
        self.order: deque[_Entry] = deque()
        self.next = 0  # the first file not yet screened or handed over
        self.held: list[_Chunk] = []  # files to parse found before the pool pays, one chunk each
        self.chunk = _Chunk()  # the chunk being filled once the pool runs
        self.in_flight: list[_Chunk] = []  # handed over, not finished
        self.executor: ProcessPoolExecutor | None = None
        self.handed = 0  # files handed to the pool now running
        self.announced: _Entry | None = None

    def results(self) -> Iterator[api.FileResult]:
        done = 0
        try:
            while True:
                while self.order:
                    result = self._take(self.order[0])
                    if result is None:
                        break
                    self.order.popleft()
                    done += 1
                    if self.progress is not None:
                        self.progress(done, len(self.paths))
                    yield result
                if not self._advance():
                    return
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)

    def _advance(self) -> bool:
        """The next piece of work while the front's result is not at hand; False when none is left."""
        self.in_flight = [c for c in self.in_flight if not self._finished(c)]
        if self.next < len(self.paths) and len(self.in_flight) < CHUNKS_IN_FLIGHT * self.jobs:
            self._dispatch(self.paths[self.next])
            self.next += 1
            return True
        if self.chunk.tasks and self.next == len(self.paths):
            self._submit()
            return True
        if not self.order:
            return False
        front = self.order[0]
        if self.in_flight and isinstance(front, tuple) and not self._finished(front[0]):
            if front[0].future is not None:
                self._announce(front)
            wait([c.future for c in self.in_flight if c.future is not None], return_when=FIRST_COMPLETED)
        return True

    def _dispatch(self, path: Path) -> None:
        if self.executor is not None and self.cache is None:
            item: api.FileResult | Task = (path, None)  # the worker screens it
        else:
            item = _screen(path, self.settings, self.rules, self.cache, self.variant)
        if isinstance(item, api.FileResult):
            self.order.append(item)
        elif self.executor is None:
            self.held.append(_Chunk([item]))
            self.order.append((self.held[-1], 0))
            if len(self.held) >= MIN_FILES_FOR_POOL:
                self._start_pool()
        else:
            self.order.append((self.chunk, len(self.chunk.tasks)))
            self.chunk.tasks.append(item)
            if len(self.chunk.tasks) >= self._chunk_size() or len(self.in_flight) < self.jobs:
                self._submit()  # full, or a worker would wait for it

    def _chunk_size(self) -> int:
        """Up to the chunk limit, and small enough near the end that every worker gets a share."""
        limit = PARSES_PER_CHUNK if self.cache is not None else FILES_PER_CHUNK
        return max(1, min(limit, (len(self.paths) - self.next) // (2 * self.jobs)))

    def _start_pool(self) -> None:
        """The pool pays: start it, and hand over each file held so far on its own, so every worker starts now."""
        self.executor = self._new_executor()
        for chunk in self.held:
            self.chunk = chunk
            self._submit()
        self.held = []

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(self.settings, self.cache, self.annotate))

    def _submit(self) -> None:
        chunk, self.chunk = self.chunk, _Chunk()
        assert self.executor is not None
        if self.handed >= FILES_PER_WORKER * self.jobs:
            self._renew()
        self.handed += len(chunk.tasks)
        try:
            chunk.future = self.executor.submit(_lint_chunk_in_worker, chunk.tasks)
        except BrokenProcessPool:  # it broke since the last look: replace it
            self._replace(self.executor)
            chunk.future = self.executor.submit(_lint_chunk_in_worker, chunk.tasks)
        chunk.executor = self.executor
        self.in_flight.append(chunk)

    def _renew(self) -> None:
        """A fresh pool for the files still to come, once the chunks in flight are done."""
        old = self.executor
        assert old is not None
        wait([c.future for c in self.in_flight if c.future is not None])
        self.in_flight = [c for c in self.in_flight if not self._finished(c)]
        if self.executor is old:  # else a worker died meanwhile, and the pool is already new
            old.shutdown(wait=True)
            self.executor = self._new_executor()
        self.handed = 0

    def _finished(self, chunk: _Chunk) -> bool:
        """Whether ``chunk`` has its results, or is lost with the pool it went to."""
        if chunk.results is not None or chunk.lost:
            return True
        if chunk.future is None:
            return False
        if chunk.future.done():
            try:
                chunk.results = chunk.future.result()
            except (BrokenProcessPool, CancelledError):
                chunk.lost = True
                self._replace(chunk.executor)
            return True
        if chunk.executor is not self.executor:
            chunk.lost = True  # its pool was replaced: it will never finish
            return True
        return False

    def _replace(self, broken: ProcessPoolExecutor | None) -> None:
        """A worker died (killed, or a crash in native code). Which of the files in flight
        killed it is unknown, so each unfinished one that needs a parse is linted again in
        a process of its own (only the file that crashes again is reported), and the files
        after them go to a new pool."""
        if broken is self.executor and broken is not None:
            broken.shutdown(wait=True, cancel_futures=True)
            self.executor = self._new_executor()

    def _take(self, entry: _Entry) -> api.FileResult | None:
        """The result of ``entry``, when it is at hand or can be had without the pool; else None."""
        if isinstance(entry, api.FileResult):
            return entry
        chunk, index = entry
        if chunk.future is None:
            if self.executor is not None or self.next < len(self.paths):
                return None  # not handed over yet, or the pool may still pay
            self._announce(entry)  # few files to parse: no pool, each is linted here
            return _lint_task(chunk.tasks[index], self.settings, self.rules, self.cache, self.annotate)
        if not self._finished(chunk):
            return None
        if chunk.results is not None:
            return chunk.results[index]
        self._announce(entry)
        path, digest = chunk.tasks[index]
        if digest is None:  # a file the worker was to screen: one screened out cannot have crashed it
            item = _screen(path, self.settings, self.rules, self.cache, self.variant)
            if isinstance(item, api.FileResult):
                return item
        return _lint_isolated(chunk.tasks[index], self.settings, self.cache, self.annotate)

    def _announce(self, entry: tuple[_Chunk, int]) -> None:
        """Tell the progress line which file the run now waits for (once per file)."""
        linting = getattr(self.progress, "linting", None)
        if linting is not None and entry is not self.announced:
            self.announced = entry
            linting(str(entry[0].tasks[entry[1]][0]))


def _lint_isolated(task: Task, settings: Settings, cache: ResultCache | None,
                   annotate: Annotate | None) -> api.FileResult:
    """Lint one file in a process of its own; a crash there is an E900 finding on that file alone."""
    executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(),
                                   initializer=_start_worker, initargs=(settings, cache, annotate))
    try:
        return executor.submit(_lint_chunk_in_worker, [task]).result()[0]
    except BrokenProcessPool:
        name = str(task[0])
        message = "internal error while linting: the process linting this file crashed"
        return api.FileResult(name, [api.internal_error_diagnostic(name, message)], error=message)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_worker_state: tuple[Settings, list[Rule], ResultCache | None, Annotate | None] | None = None
_malloc_trim: Callable[[int], int] | None = None


def _start_worker(settings: Settings, cache: ResultCache | None, annotate: Annotate | None) -> None:
    global _worker_state, _malloc_trim
    _worker_state = (settings, api.select_rules(settings), cache, annotate)
    try:
        _malloc_trim = ctypes.CDLL(None).malloc_trim  # glibc's; other C libraries have none
    except (OSError, AttributeError, TypeError):
        _malloc_trim = None


def _lint_chunk_in_worker(tasks: list[Task]) -> list[api.FileResult]:
    assert _worker_state is not None
    settings, rules, cache, annotate = _worker_state
    results = [portable(_lint_task(task, settings, rules, cache, annotate)) for task in tasks]
    if _malloc_trim is not None:
        # glibc keeps the pages a parse freed (the native parser's own tree, tens of MiB for
        # a large file) for later use, so each worker would hold its largest file's peak to
        # the end of the run, and every worker meets a file that large once the tree is big
        # enough. Handing them back after each chunk costs about a millisecond.
        _malloc_trim(0)
    return results


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
