"""Dynamic mode, the parent side: which files to build, the cache, the fork server, the verdicts.

Runs after the static lint, over its results. A file is built when the static
run parsed it and it mentions BatchNormalization (or a ``dynamic-entry`` names
it); files answered from the cache cost no TensorFlow import at all, and the
fork server is started on the first file that needs a build. Each file's
static findings come back with their verdicts, followed by what only the
build shows, under the file's own suppressions.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from bnlint import suppress
from bnlint.api import FileResult, enabled_codes
from bnlint.cache import content_digest
from bnlint.config import Settings
from bnlint.diagnostics import Diagnostic
from bnlint.dynamic import verdicts
from bnlint.dynamic.built_view import BuiltView
from bnlint.dynamic.cache import DynamicCache
from bnlint.dynamic.client import ServerFailed, ZygoteClient
from bnlint.dynamic.static_view import static_view
from bnlint.rules import CATALOG

_TOKENS = (b"BatchNorm", b"batch_norm")
_UNLINTABLE = ("E999", "E902")  # a file that did not parse or read is reported already


def warning(settings: Settings) -> str:
    """The first line of every dynamic run: it executes code."""
    return (f"bnlint: --dynamic imports each file and runs its code to build its models (one process per file, "
            f"no network, {settings.dynamic_timeout:g} s limit each); use it only on code you trust")


def run(results: Iterable[FileResult], settings: Settings, cache_dir: Path | None, log: IO[str],
        jobs: int = 1) -> list[FileResult]:
    """The results with their verdicts and the build-only findings; ``jobs`` children build at once."""
    codes = enabled_codes(settings)
    cache = DynamicCache(cache_dir, settings) if cache_dir is not None else None
    results = list(results)
    plans: dict[int, tuple[bytes, str, list[str]]] = {}
    reports: dict[int, dict[str, Any]] = {}
    cached: set[int] = set()
    for index, result in enumerate(results):
        data = _source(result)
        entries = _entries_for(result.path, settings.dynamic_entries)
        if data is None or not (entries or any(token in data for token in _TOKENS)) or suppress.skips_file(data):
            continue
        digest = content_digest(data)
        plans[index] = (data, digest, entries)
        report = cache.get(result.path, digest, entries) if cache is not None else None
        if report is not None:
            reports[index] = report
            cached.add(index)
    order = list(plans)
    said = 0

    def say_what_is_done() -> None:
        # Each file's line as soon as it and every file before it are done: progress, in a stable order.
        nonlocal said
        while said < len(order) and order[said] in reports:
            index = order[said]
            print(_summary(results[index].path, reports[index], index in cached), file=log, flush=True)
            said += 1

    say_what_is_done()
    to_build = [index for index in plans if index not in reports]
    if to_build:
        for index, report in _build(to_build, results, plans, settings, log, jobs):
            reports[index] = report
            if cache is not None:
                cache.put(results[index].path, plans[index][1], plans[index][2], report)
            say_what_is_done()
    return [_judged(result, plans[index][0], reports[index], settings, codes) if index in plans else result
            for index, result in enumerate(results)]


def _build(indices: list[int], results: list[FileResult], plans: dict[int, tuple[bytes, str, list[str]]],
           settings: Settings, log: IO[str], jobs: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, report)`` for each file to build, as the builds finish."""
    # One child per file is enough on a GPU: each would take a CUDA context and its memory.
    on_gpu = settings.dynamic_device != "cpu" and os.path.exists("/dev/nvidia0")
    client = ZygoteClient(settings.dynamic_device, 1 if on_gpu else min(jobs, len(indices)))
    problem = _start(client, log)
    if problem is not None:
        for index in indices:
            yield index, {"status": "failed", "reason": problem, "infrastructure": True}
        return
    requests = [build_request(results[index].path, plans[index][2], settings) for index in indices]
    try:
        for position, report in client.build_all(requests):
            yield indices[position], report
    finally:
        client.close()


def _start(client: ZygoteClient, log: IO[str]) -> str | None:
    try:
        ready = client.start()
    except ServerFailed as error:
        print(f"bnlint: dynamic: {error}", file=log)
        return str(error)
    print(f"bnlint: dynamic: TensorFlow {ready['tensorflow']} and Keras {ready['keras']} imported once "
          f"in {ready['import_seconds']:.1f} s", file=log)
    return None


def _source(result: FileResult) -> bytes | None:
    if result.error is not None or any(d.code in _UNLINTABLE for d in result.diagnostics):
        return None
    try:
        return Path(result.path).read_bytes()
    except OSError:
        return None


def _entries_for(path: str, entries: list[str]) -> list[str]:
    """The calls of the ``dynamic-entry`` items (already made absolute) that name this file."""
    calls = []
    for entry in entries:
        target, _, call = entry.partition(".py:")
        try:
            if os.path.samefile(target + ".py", path):
                calls.append(call)
        except OSError:
            continue
    return calls


def build_request(path: str, entries: list[str], settings: Settings) -> dict[str, Any]:
    return {"path": os.path.abspath(path), "entries": entries, "timeout": settings.dynamic_timeout,
            "memory_mb": settings.dynamic_memory_limit, "device": settings.dynamic_device,
            "image_data_format": settings.image_data_format, "input_shape": settings.dynamic_input_shape}


def _summary(path: str, report: dict[str, Any], cached: bool) -> str:
    note = " (cached)" if cached else ""
    if report.get("status") != "ok":
        return f"bnlint: dynamic: {path}: not built: {report.get('reason', '')}{note}"
    builders = report.get("builders", [])
    built = sum(b["models"] for b in builders if b["status"] == "built")
    needs = sum(b["status"] == "not-built" and "needs arguments" in b["reason"] for b in builders)
    failed = [f"{b['name']}: {b['reason']}" for b in builders
              if b["status"] == "not-built" and "needs arguments" not in b["reason"]]
    problems = f"; not built: {'; '.join(failed)}" if failed else ""
    if needs:
        problems += f"; {needs} function{'s' if needs != 1 else ''} need{'s' if needs == 1 else ''} arguments"
    return (f"bnlint: dynamic: {path}: built {built} model{'s' if built != 1 else ''} on "
            f"{report.get('device', 'cpu').upper()} in {report.get('seconds', 0):.1f} s{problems}{note}")


def _judged(result: FileResult, data: bytes, report: dict[str, Any], settings: Settings,
            codes: set[str]) -> FileResult:
    static = static_view(data, settings)
    built = BuiltView(report)
    device = report.get("device", "")
    judged = verdicts.judge(result.diagnostics, static, built, device)
    found = verdicts.build_only_findings(result.path, static, built, result.diagnostics, codes)
    for d in found:
        d.extra["dynamic_device"] = device
    found = suppress.apply(found, data, result.path, settings.per_file_ignores, False,
                           checked_codes=[d.code for d in found],
                           known_codes=[*(rule.code for rule in CATALOG), suppress.UNUSED_SUPPRESSION[0]])
    diagnostics: list[Diagnostic] = sorted(judged + found, key=Diagnostic.sort_key)
    return replace(result, diagnostics=diagnostics)
