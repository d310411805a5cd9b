"""The engine: paths in, diagnostics out. The CLI and every renderer sit on top of this."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint import fixer, suppress
from bnlint.cache import ResultCache
from bnlint.config import Settings, resolve_codes
from bnlint.diagnostics import IO_ERROR, PARSE_ERROR, Diagnostic, Finding, Severity
from bnlint.discovery import discover
from bnlint.fixer import FixOutcome
from bnlint.frontend import build_graphs, module_facts
from bnlint.graph import DataFormat, LayerGraph
from bnlint.rule import Rule
from bnlint.rules import ALL_RULES


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # an internal failure: reported on stderr, exit code 2
    parsed: bool = False
    # The parsed module and its graphs, kept only when asked for (the fixer edits this very tree).
    syntax: tuple[cst.Module, list[LayerGraph]] | None = field(default=None, repr=False, compare=False)


def enabled_codes(settings: Settings) -> set[str]:
    """Every code a run reports: the rules' and, when asked for, unused-suppression."""
    defaults = {rule.code: rule.enabled_by_default for rule in ALL_RULES}
    defaults[suppress.UNUSED_SUPPRESSION[0]] = False
    # Only when selected by its own code: ``ALL`` in a rule test must not start reporting comments.
    return resolve_codes(settings.selection_layers(), defaults, explicit_only=[suppress.UNUSED_SUPPRESSION[0]])


def select_rules(settings: Settings) -> list[Rule]:
    """The rules a run uses: config then command-line ``select`` / ``extend-select`` / ``ignore``."""
    codes = enabled_codes(settings)
    return [rule for rule in ALL_RULES if rule.code in codes]


def lint_paths(paths: Iterable[str], settings: Settings, *, jobs: int = 1, cache: ResultCache | None = None,
               progress: Callable[[int, int], None] | None = None,
               annotate: Callable[[FileResult], None] | None = None,
               ) -> Iterator[FileResult]:
    """Lint every file under ``paths``, in discovery order whatever ``jobs`` is.

    ``jobs`` > 1 lints files that need a parse in worker processes; their results (and
    cached ones) carry fixes without LibCST targets: ``Edit.describe`` data only.
    ``cache`` skips files linted before; ``progress(done, total)`` hears of each file;
    ``annotate(result)``, a module-level function, adds to each fresh result where it is
    linted, before it is cached, while the result still holds its parsed module and graphs.
    """
    from bnlint import workers  # workers imports this module

    files = discover(list(paths), exclude=settings.exclude_patterns())
    yield from workers.lint_files(files, settings, select_rules(settings), jobs=jobs, cache=cache,
                                  progress=progress, annotate=annotate)


def lint_file(path: Path, settings: Settings, rules: list[Rule]) -> FileResult:
    data = read_source(path, settings)
    return data if isinstance(data, FileResult) else lint_data(str(path), data, settings, rules)


def read_source(path: Path, settings: Settings) -> bytes | FileResult:
    """The file's bytes, or the result that reports why it cannot be linted."""
    try:
        return _read(path, settings)
    except _FileProblem as problem:
        return FileResult(str(path), [_file_diagnostic(str(path), IO_ERROR, str(problem))])


def lint_data(name: str, data: bytes, settings: Settings, rules: list[Rule], *,
              keep_syntax: bool = False) -> FileResult:
    """``lint_source``, with one file's failure made into its result so that the run goes on."""
    try:
        return lint_source(name, data, settings, rules, keep_syntax=keep_syntax)
    except RecursionError:
        return FileResult(name, [_file_diagnostic(name, IO_ERROR, "code nested too deeply to analyse; skipped")])
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the run
        return FileResult(name, error=f"internal error while linting: {type(error).__name__}: {error}")


def fix_paths(paths: Iterable[str], settings: Settings, unsafe: bool = False,
              write: bool = True) -> Iterator[FixOutcome]:
    """Fix every file: safe fixes, and unsafe ones too when ``unsafe``; ``write=False`` only computes."""
    rules = select_rules(settings)
    for path in discover(list(paths), exclude=settings.exclude_patterns()):
        yield fix_file(path, settings, rules, unsafe, write)


def fix_file(path: Path, settings: Settings, rules: list[Rule], unsafe: bool = False,
             write: bool = True) -> FixOutcome:
    name = str(path)
    try:
        data = _read(path, settings)
    except _FileProblem as problem:
        return FixOutcome(name, b"", b"", remaining=[_file_diagnostic(name, IO_ERROR, str(problem))])
    try:
        outcome = fixer.fix_source(name, data, settings, rules, unsafe)
    except RecursionError:
        return FixOutcome(name, data, data,
                          remaining=[_file_diagnostic(name, IO_ERROR, "code nested too deeply to analyse; skipped")])
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the run
        return FixOutcome(name, data, data, error=f"internal error while fixing: {type(error).__name__}: {error}")
    if write and outcome.changed:
        try:
            fixer.write_atomic(path, outcome.fixed, fixer.digest(data))
        except (fixer.FileChanged, OSError) as error:
            problem = str(error) if isinstance(error, fixer.FileChanged) else \
                f"cannot write the fixed file: {error.strerror or error}"
            return FixOutcome(name, data, data, remaining=lint_source(name, data, settings, rules).diagnostics,
                              problem=problem)
    return outcome


def lint_source(name: str, data: bytes, settings: Settings, rules: list[Rule], *,
                keep_syntax: bool = False) -> FileResult:
    if suppress.skips_file(data):
        return FileResult(name)
    result = _lint_unsuppressed(name, data, settings, rules, keep_syntax)
    report_unused = suppress.UNUSED_SUPPRESSION[0] in enabled_codes(settings)
    if result.diagnostics or report_unused:
        result.diagnostics = suppress.apply(
            result.diagnostics, data, name, settings.per_file_ignores, report_unused,
            checked_codes=[rule.code for rule in rules],
            known_codes=[*(rule.code for rule in ALL_RULES), suppress.UNUSED_SUPPRESSION[0]],
        )
    return result


def _lint_unsuppressed(name: str, data: bytes, settings: Settings, rules: list[Rule],
                       keep_syntax: bool = False) -> FileResult:
    if not any(rule.could_fire(data) for rule in rules):
        return FileResult(name)
    try:
        module = cst.parse_module(data)
    except cst.ParserSyntaxError as error:
        line, column = _syntax_error_position(data, error)
        return FileResult(name, [_file_diagnostic(name, PARSE_ERROR, f"syntax error: {error.message}",
                                                  line, column)])
    except (UnicodeDecodeError, LookupError, SyntaxError):
        return FileResult(name, [_file_diagnostic(
            name, IO_ERROR, "not valid UTF-8 and no usable coding declaration (PEP 263); skipped")])
    source = data.decode(module.encoding, errors="replace")
    data_format = DataFormat.parse(settings.image_data_format) if settings.image_data_format else None
    graphs = build_graphs(module, module_facts(source), data_format)
    found: dict[tuple[str, int], tuple[Rule, Finding]] = {}
    times_found: Counter[tuple[str, int]] = Counter()
    for graph in graphs:
        for rule in rules:
            for finding in rule.check(graph, settings):
                key = (rule.code, id(finding.anchor))
                found.setdefault(key, (rule, finding))
                times_found[key] += 1
    if any(rule.requires_every_instance for rule, _ in found.values()):
        uses = _uses_per_origin(graphs)
        found = {key: value for key, value in found.items()
                 if not value[0].requires_every_instance or times_found[key] >= uses[key[1]]}
    result = FileResult(name, parsed=True)
    if keep_syntax:
        result.syntax = (module, graphs)
    if found:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for rule, finding in found.values():
            where = positions.get(finding.anchor)
            start = (where.start.line, where.start.column + 1) if where else (1, 1)
            end = (where.end.line, where.end.column + 1) if where else start
            result.diagnostics.append(Diagnostic(
                rule.code, rule.name, finding.message, name, start[0], start[1], end[0], end[1],
                finding.severity or rule.severity, finding.fix,
            ))
        result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _uses_per_origin(graphs: list[LayerGraph]) -> Counter[int]:
    """How many times each source layer (or merge argument) was traced, over all graphs."""
    uses: Counter[int] = Counter()
    for graph in graphs:
        uses.update(id(node.origin) for node in graph.nodes if not node.implicit and node.origin is not None)
        uses.update(id(origin) for origin in {(e.target, e.slot): e.origin for e in graph.edges}.values()
                    if origin is not None)
    return uses


def _syntax_error_position(data: bytes, error: cst.ParserSyntaxError) -> tuple[int, int]:
    """Python's own position for the error when it has one: LibCST's can lie past the real mistake."""
    try:
        compile(data, "<file>", "exec", dont_inherit=True)
    except SyntaxError as python_error:
        if python_error.lineno:
            return python_error.lineno, max(python_error.offset or 1, 1)
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        pass
    return error.editor_line, error.editor_column


class _FileProblem(Exception):
    pass


def _read(path: Path, settings: Settings) -> bytes:
    try:
        if path.is_dir():
            raise _FileProblem("is a directory with no Python files")
        size = path.stat().st_size
        if size > settings.max_file_size:
            raise _FileProblem(f"file too large to lint ({size / 2**20:.1f} MiB > "
                               f"{settings.max_file_size / 2**20:.1f} MiB); skipped")
        data = path.read_bytes()
    except FileNotFoundError:
        raise _FileProblem("no such file or directory") from None
    except PermissionError:
        raise _FileProblem("permission denied") from None
    except OSError as error:
        raise _FileProblem(f"cannot read the file: {error.strerror or error}") from None
    if b"\x00" in data:
        raise _FileProblem("binary file (contains NUL bytes); skipped")
    return data


def _file_diagnostic(path: str, code: tuple[str, str], message: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(code[0], code[1], message, path, line, column, line, column, Severity.ERROR)
