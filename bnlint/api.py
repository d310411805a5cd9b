"""The engine: paths in, diagnostics out. The CLI and every renderer sit on top of this."""
from __future__ import annotations

import contextlib
import gc
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from bnlint import fixer, notebook, suppress
from bnlint.cache import ResultCache
from bnlint.config import Settings, check_per_file_ignores, resolve_codes
from bnlint.diagnostics import (
    ANALYSIS_INCOMPLETE,
    INTERNAL_ERROR,
    IO_ERROR,
    PARSE_ERROR,
    Diagnostic,
    Finding,
    Related,
    Severity,
)
from bnlint.discovery import discover
from bnlint.fixer import FixOutcome
from bnlint.frontend import build_graphs
from bnlint.frontend.project import LoadedModule, Project, imports_could_fire
from bnlint.frontend.budget import file_budget
from bnlint.graph import DataFormat, LayerGraph
from bnlint.parsing import parse_module
from bnlint.positions import positions_of
from bnlint.prefilter import names_bn
from bnlint.rule import Rule
from bnlint.rules import ALL_RULES, CATALOG
from bnlint.screen import screen


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # an internal failure: reported on stderr, exit code 2
    parsed: bool = False
    # The parsed module and its graphs, kept only when asked for (the fixer edits this very tree).
    syntax: tuple[cst.Module, list[LayerGraph]] | None = field(default=None, repr=False, compare=False)
    # Project modules the graphs traced into (absolute path -> content digest): the result
    # holds only while they are unchanged.
    dependencies: dict[str, str] = field(default_factory=dict)


def enabled_codes(settings: Settings) -> set[str]:
    """Every code a run reports: the rules' and, when asked for, unused-suppression."""
    defaults = {rule.code: rule.enabled_by_default for rule in CATALOG}  # dynamic rules are selectable too
    defaults[suppress.UNUSED_SUPPRESSION[0]] = False
    # Only when selected by its own code: ``ALL`` in a rule test must not start reporting comments.
    check_per_file_ignores(settings, list(defaults))
    return resolve_codes(settings.selection_layers(), defaults, explicit_only=[suppress.UNUSED_SUPPRESSION[0]])


def select_rules(settings: Settings) -> list[Rule]:
    """The rules a run uses: config then command-line ``select`` / ``extend-select`` / ``ignore``."""
    codes = enabled_codes(settings)
    return [rule for rule in ALL_RULES if rule.code in codes]


def lint_paths(paths: Iterable[str], settings: Settings, *, jobs: int = 1, cache: ResultCache | None = None,
               progress: Callable[[int, int], None] | None = None,
               annotate: Callable[[FileResult], None] | None = None,
               visited: list[str] | None = None) -> Iterator[FileResult]:
    """Lint every file under ``paths``, in discovery order whatever ``jobs`` is.

    ``jobs`` > 1 lints files that need a parse in worker processes; their results (and
    cached ones) carry fixes without LibCST targets: ``Edit.describe`` data only.
    ``cache`` skips files linted before; ``progress(done, total)`` hears of each file;
    ``visited`` collects the folders whose listing was read; ``annotate(result)``, a module-level function, adds to each fresh result where it is
    linted, before it is cached, while the result still holds its parsed module and graphs.
    """
    from bnlint import workers  # workers imports this module

    files = discover(list(paths), exclude=settings.exclude_patterns(), force_exclude=settings.force_exclude,
                     visited=visited)
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
    """``lint_source`` under the file's time budget, with a failure made into its result so that the run goes on.

    Nothing about one file ends the run: an internal failure becomes an E900
    finding on the file (and ``error``, so the run exits 2), and a budget that
    stopped part of the analysis an E901 finding saying findings may be missing.
    """
    try:
        with file_budget() as watch:
            if notebook.is_notebook(name):
                result = lint_notebook(name, data, settings, rules, keep_syntax=keep_syntax)
            else:
                result = lint_source(name, data, settings, rules, keep_syntax=keep_syntax)
    except RecursionError:
        return FileResult(name, [_file_diagnostic(name, IO_ERROR, "code nested too deeply to analyse; skipped")])
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the run
        return internal_error_result(name, "linting", error)
    note = incomplete_diagnostic(name, watch.cut_short)
    if note is not None:
        result.diagnostics.append(note)
    return result


def internal_error_result(name: str, doing: str, error: BaseException) -> FileResult:
    """The result of a file bnlint failed on: an E900 finding, and ``error`` for stderr and exit code 2."""
    message = f"internal error while {doing}: {type(error).__name__}: {error}"
    return FileResult(name, [internal_error_diagnostic(name, message)], error=message)


def internal_error_diagnostic(name: str, message: str) -> Diagnostic:
    return _file_diagnostic(name, INTERNAL_ERROR, f"{message}; the file was not checked (please report this)")


def incomplete_diagnostic(name: str, cut_short: list[str]) -> Diagnostic | None:
    """One E901 finding when a budget stopped some of ``name``'s analysis, else None."""
    if not cut_short:
        return None
    where = "; ".join(dict.fromkeys(cut_short))
    diagnostic = _file_diagnostic(
        name, ANALYSIS_INCOMPLETE,
        f"too complex to analyse completely (analysis stopped at its budget in {where}); "
        "findings in this file may be missing")
    diagnostic.severity = Severity.INFO
    return diagnostic


def fix_paths(paths: Iterable[str], settings: Settings, unsafe: bool = False,
              write: bool = True) -> Iterator[FixOutcome]:
    """Fix every file: safe fixes, and unsafe ones too when ``unsafe``; ``write=False`` only computes."""
    rules = select_rules(settings)
    for path in discover(list(paths), exclude=settings.exclude_patterns(), force_exclude=settings.force_exclude):
        yield fix_file(path, settings, rules, unsafe, write)


def fix_file(path: Path, settings: Settings, rules: list[Rule], unsafe: bool = False,
             write: bool = True) -> FixOutcome:
    name = str(path)
    try:
        data = _read(path, settings)
    except _FileProblem as problem:
        return FixOutcome(name, b"", b"", remaining=[_file_diagnostic(name, IO_ERROR, str(problem))])
    try:
        outcome = fix_data(name, data, settings, rules, unsafe)
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
            # A run that lost a race reports what is on disk now, not the text it could not write.
            now = error.current if isinstance(error, fixer.FileChanged) and error.current is not None else data
            return FixOutcome(name, now, now, remaining=lint_data(name, now, settings, rules).diagnostics,
                              problem=problem)
    return outcome


def fix_data(name: str, data: bytes, settings: Settings, rules: list[Rule], unsafe: bool = False) -> FixOutcome:
    """``fixer.fix_source`` for one file's bytes; a notebook's fixes rewrite only the cells they change."""
    if not notebook.is_notebook(name):
        return fixer.fix_source(name, data, settings, rules, unsafe)
    try:
        book = notebook.Notebook.parse(data)
    except notebook.NotebookError as problem:
        return FixOutcome(name, data, data, remaining=[_file_diagnostic(name, IO_ERROR, str(problem))])
    outcome = fixer.fix_source(name, book.python, settings, rules, unsafe)
    found = [book.locate(d) for d in outcome.found]
    remaining = [book.locate(d) for d in outcome.remaining]
    try:
        fixed = book.with_python(outcome.fixed) if outcome.changed else data
    except notebook.CellsMoved as moved:
        return FixOutcome(name, data, data, remaining=found, problem=str(moved), found=found)
    return FixOutcome(name, data, fixed, [book.locate(d) for d in outcome.applied], remaining,
                      outcome.problem, outcome.error, found)


def lint_notebook(name: str, data: bytes, settings: Settings, rules: list[Rule], *,
                  keep_syntax: bool = False) -> FileResult:
    """A notebook linted as the Python of its code cells joined; each finding is placed in its cell."""
    try:
        book = notebook.Notebook.parse(data)
    except notebook.NotebookError as problem:
        return FileResult(name, [_file_diagnostic(name, IO_ERROR, str(problem))])
    result = lint_source(name, book.python, settings, rules, keep_syntax=keep_syntax)
    result.diagnostics = [book.locate(d) for d in result.diagnostics]
    return result


def could_fire(name: str, data: bytes, rules: list[Rule]) -> bool:
    """The prefilter: whether some rule could report on this file, itself or through the
    project modules it imports (a model whose BN blocks live in a sibling module)."""
    if any(rule.could_fire(data) for rule in rules):
        return True
    # An imported module matters only for the BN layers it builds for this file.
    return any(rule.tokens for rule in rules) and imports_could_fire(name, data, names_bn)


def lint_source(name: str, data: bytes, settings: Settings, rules: list[Rule], *,
                keep_syntax: bool = False) -> FileResult:
    if suppress.skips_file(data):
        return FileResult(name)
    # Every text that may reach the parser passes the screen first: files, notebook cells, each fix pass.
    if could_fire(name, data, rules):
        problem = screen(data)
        if problem is not None:
            return FileResult(name, [_file_diagnostic(name, IO_ERROR, problem)])
        with _cycle_collection_paused():
            result = _lint_unsuppressed(name, data, settings, rules, keep_syntax)
    else:
        result = FileResult(name)  # no rule can fire: still, a suppression here may be unused
    report_unused = suppress.UNUSED_SUPPRESSION[0] in enabled_codes(settings)
    if result.diagnostics or report_unused:
        result.diagnostics = suppress.apply(
            result.diagnostics, data, name, settings.per_file_ignores, report_unused,
            checked_codes=[rule.code for rule in rules],
            known_codes=[*(rule.code for rule in CATALOG), suppress.UNUSED_SUPPRESSION[0]],
        )
    return result


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """No cycle collection while one file is parsed and analysed.

    A parse creates a million objects for a large file, and each full collection the
    allocations trigger walks all of them again: a third of the time of a 50,000-line
    file. Almost nothing a lint allocates is cyclic (the tree is freed by reference
    counting); what is, the collector takes after the file, as it would have.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lint_unsuppressed(name: str, data: bytes, settings: Settings, rules: list[Rule],
                       keep_syntax: bool = False) -> FileResult:
    """Parse, trace and check a file that passed the prefilter and the screen."""
    try:
        module = parse_module(data)
    except cst.ParserSyntaxError as error:
        line, column = _syntax_error_position(data, error)
        return FileResult(name, [_file_diagnostic(name, PARSE_ERROR, f"syntax error: {error.message}",
                                                  line, column)])
    except (UnicodeDecodeError, LookupError, SyntaxError):
        return FileResult(name, [_file_diagnostic(
            name, IO_ERROR, "not valid UTF-8 and no usable coding declaration (PEP 263); skipped")])
    source = data.decode(module.encoding, errors="replace")
    data_format = DataFormat.parse(settings.image_data_format) if settings.image_data_format else None
    project = Project(name) if os.path.isfile(name) else None
    graphs = build_graphs(module, data_format, source, project)
    found: dict[tuple[str, int], tuple[Rule, Finding]] = {}
    times_found: Counter[tuple[str, int]] = Counter()
    found_in: dict[tuple[str, int], set[int]] = {}  # the graphs (by index) each finding occurs in
    primary = _primary_origins(graphs)
    for index, graph in enumerate(graphs):
        for rule in rules:
            for finding in rule.check(graph, settings):
                if graph.supplementary and id(finding.anchor) in primary:
                    continue  # a caller's graph judges this layer, with the caller's arguments
                key = (rule.code, id(finding.anchor))
                found.setdefault(key, (rule, finding))
                times_found[key] += 1
                found_in.setdefault(key, set()).add(index)
    uses = _uses_per_origin(graphs, primary) if found else []
    if any(rule.requires_every_instance for rule, _ in found.values()):
        total: Counter[int] = Counter()
        for counts in uses:
            total.update(counts)  # not sum(): that is quadratic in the number of graphs
        found = {key: value for key, value in found.items()
                 if not value[0].requires_every_instance or times_found[key] >= total[key[1]]}
    result = FileResult(name, parsed=True)
    if keep_syntax:
        result.syntax = (module, graphs)
    if project is not None:
        result.dependencies = {str(path): loaded.digest for path, loaded in project.used.items()}
    if found:
        positions = positions_of(module, [node for _, finding in found.values() for node in _named_nodes(finding)])
        elsewhere = _ImportedPositions(name, project, [
            node for _, finding in found.values() if positions.get(finding.anchor) is None
            for node in _named_nodes(finding)])
        for key, (rule, finding) in found.items():
            if positions.get(finding.anchor) is None and elsewhere.place(finding.anchor) is not None:
                result.diagnostics.extend(elsewhere.diagnostic(rule, finding, settings))
                continue
            start, end = _span(positions, finding.anchor)
            message, related = _placed(finding, positions)
            diagnostic = Diagnostic(
                rule.code, rule.name, message, name, start[0], start[1], end[0], end[1],
                finding.severity or rule.severity, finding.fix, related=related,
            )
            refusal = _shared_fix_refusal(finding, times_found[key], found_in[key], uses)
            if refusal is not None:
                diagnostic.fix = None
                diagnostic.extra["fix_refused"] = refusal
            result.diagnostics.append(diagnostic)
        result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _named_nodes(finding: Finding) -> tuple[Any, ...]:
    """The nodes a diagnostic positions: the finding's anchor and the layers it relates."""
    return (finding.anchor, *(origin for origin, _ in finding.related))


class _ImportedPositions:
    """Findings on layers of an imported project module: reported at that module's line, with
    its own suppressions, and without a fix (``--fix`` edits the file being linted only)."""

    def __init__(self, name: str, project: Project | None, wanted: list[Any]) -> None:
        self.name = name
        self.project = project
        self.wanted = wanted  # every node a finding placed elsewhere may name
        self._positions: dict[str, Any] = {}

    def place(self, anchor: Any) -> tuple[LoadedModule, Any] | None:
        if self.project is None or not self.wanted:
            return None
        for path, loaded in self.project.used.items():
            positions = self._positions.get(str(path))
            if positions is None:
                positions = positions_of(loaded.module, self.wanted)
                self._positions[str(path)] = positions
            if positions.get(anchor) is not None:
                return loaded, positions
        return None

    def diagnostic(self, rule: Rule, finding: Finding, settings: Settings) -> list[Diagnostic]:
        loaded, positions = self.place(finding.anchor)  # type: ignore[misc]
        start, end = _span(positions, finding.anchor)
        message, related = _placed(finding, positions)
        path = os.path.normpath(os.path.join(os.path.dirname(self.name),
                                             os.path.relpath(loaded.path, os.path.dirname(os.path.abspath(self.name)))))
        diagnostic = Diagnostic(rule.code, rule.name, message, path, start[0], start[1], end[0], end[1],
                                finding.severity or rule.severity, None, related=related)
        if suppress.skips_file(loaded.data):
            return []
        return suppress.apply([diagnostic], loaded.data, path, settings.per_file_ignores, False,
                              checked_codes=[rule.code], known_codes=[rule.code])


def _placed(finding: Finding, positions: Any) -> tuple[str, list[Related]]:
    """The finding's message with its related layers named by line, and their locations."""
    related, named = [], []
    for origin, description in finding.related:
        (line, column), (end_line, end_column) = _span(positions, origin)
        related.append(Related(line, column, end_line, end_column, description))
        named.append(f"{description} (line {line})" if positions.get(origin) else description)
    return _named_message(finding.message, named), related


def _named_message(template: str, named: list[str]) -> str:
    """The message with ``{0}``, ``{1}``... replaced by the related layers' names and lines.

    A plain replacement, not ``str.format``: other braces in a message are left as they are.
    """
    for index, text in enumerate(named):
        template = template.replace(f"{{{index}}}", text)
    return template


def _span(positions: Any, origin: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """(line, column) of the start and end of ``origin``, 1-based columns; (1, 1) when it has no position."""
    where = positions.get(origin)
    start = (where.start.line, where.start.column + 1) if where else (1, 1)
    end = (where.end.line, where.end.column + 1) if where else start
    return start, end


def _primary_origins(graphs: list[LayerGraph]) -> set[int]:
    """The layers (by their origin's id) that a graph other than a supplementary one holds."""
    return {id(node.origin) for graph in graphs if not graph.supplementary for node in graph.nodes
            if node.origin is not None}


def _uses_per_origin(graphs: list[LayerGraph], primary: set[int]) -> list[Counter[int]]:
    """How many times each source layer (or merge argument) was traced, per graph; a
    supplementary graph's uses count only for the layers no other graph holds."""
    per_graph = []
    for graph in graphs:
        uses: Counter[int] = Counter()
        uses.update(id(node.origin) for node in graph.nodes if not node.implicit and node.origin is not None
                    and not (graph.supplementary and id(node.origin) in primary))
        uses.update(id(origin) for origin in {(e.target, e.slot): e.origin for e in graph.edges
                                              if not (graph.supplementary and
                                                      id(graph.node(e.target).origin) in primary)}.values()
                    if origin is not None)
        per_graph.append(uses)
    return per_graph


def _shared_fix_refusal(finding: Finding, times: int, graphs_found: set[int], uses: list[Counter[int]]) -> str | None:
    """Why a fix must not be offered because it edits a layer written once and traced more often.

    The edit changes every use of that source layer (every call of a helper, every
    iteration of a loop), so it is offered only when the finding occurs in each of
    them, or when the rule has checked that it is right in every use of the graphs
    it was found in (and the layer has no use elsewhere). None: the fix may stand.
    """
    if finding.fix is None:
        return None
    origins = {id(o): o for edit in finding.fix.edits for o in (edit.target, edit.anchor) if o is not None}
    for key in origins:
        total = sum(graph_uses[key] for graph_uses in uses)
        if finding.fix_right_in_every_use:
            elsewhere = sum(graph_uses[key] for i, graph_uses in enumerate(uses) if i not in graphs_found)
            if elsewhere:
                return (f"the layer is shared by {total} uses and the fix is right in only "
                        f"{total - elsewhere} of them")
        elif total > times:
            return f"the layer is shared by {total} uses and the fix is right in only {times} of them"
    return None


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
    """The bytes of a regular file, at most ``max-file-size`` of them.

    Only regular files are read: a FIFO or a device named ``x.py`` would block or
    never end. The file is opened without blocking and checked on the open
    descriptor, so it cannot be swapped for something else in between.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _FileProblem("no such file or directory") from None
    except PermissionError:
        raise _FileProblem("permission denied") from None
    except OSError as error:
        raise _FileProblem(f"cannot read the file: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        try:
            info = os.fstat(descriptor)
            if stat.S_ISDIR(info.st_mode):
                raise _FileProblem(_folder_problem(path))
            if not stat.S_ISREG(info.st_mode):
                raise _FileProblem(f"not a regular file ({_file_kind(info.st_mode)}); skipped")
            if info.st_size > settings.max_file_size:
                raise _FileProblem(_too_large(info.st_size, settings))
            data = handle.read(settings.max_file_size + 1)
        except PermissionError:
            raise _FileProblem("permission denied") from None
        except OSError as error:
            raise _FileProblem(f"cannot read the file: {error.strerror or error}") from None
    if len(data) > settings.max_file_size:  # it grew after the stat
        raise _FileProblem(_too_large(len(data), settings))
    if b"\x00" in data:
        raise _FileProblem("binary file (contains NUL bytes); skipped")
    return data


def _too_large(size: int, settings: Settings) -> str:
    return (f"file too large to lint ({size / 2**20:.1f} MiB > "
            f"{settings.max_file_size / 2**20:.1f} MiB); skipped")


def _folder_problem(path: Path) -> str:
    """A folder reaches the engine when it was named and held no Python file, or could not be entered."""
    try:
        with os.scandir(path):
            pass
    except PermissionError:
        return "cannot enter the folder (permission denied); its files were not linted"
    except OSError as error:
        return f"cannot enter the folder ({error.strerror or error}); its files were not linted"
    return "is a directory with no Python files"


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a plain file"


def _file_diagnostic(path: str, code: tuple[str, str], message: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(code[0], code[1], message, path, line, column, line, column, Severity.ERROR)
