"""Command line: flags become Settings, the engine lints, a renderer prints. Nothing else."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
import sys
from pathlib import Path
import traceback
from collections.abc import Sequence

from bnlint import __version__
from bnlint.arguments import build_parser, split_codes, split_globs
from bnlint.fixer import command as fix_command
from bnlint.api import select_rules
from bnlint.cache import ResultCache, default_cache_dir
from bnlint.config import ConfigError, load_settings
from bnlint.diagnostics import Severity
from bnlint.fixer import FixOutcome
from bnlint.output import RenderContext, rule_catalog, use_color
from bnlint.output import full as full_output
from bnlint.output import github as github_output
from bnlint.output import json as json_output
from bnlint.output import junit as junit_output
from bnlint.output import sarif as sarif_output
from bnlint.output import statistics as statistics_output
from bnlint.output import text as text_output
from bnlint.dynamic import missing_extra as dynamic_extra_missing
from bnlint.dynamic import runner as dynamic_runner
from bnlint.rules import BY_CODE
from bnlint.workers import ProgressLine, default_jobs
from bnlint import graph_command, noqa, replay, stdin
from bnlint.config import Settings
from bnlint.diagnostics import FILE_PROBLEM_CODES, Diagnostic
from bnlint.discovery import discover
from bnlint.output import settings as settings_output
from bnlint.output import RuleInfo

RENDERERS = {
    "text": text_output.render, "full": full_output.render, "json": json_output.render,
    "sarif": sarif_output.render, "github": github_output.render, "junit": junit_output.render,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["rule"]:
            return explain_rule(args[1:])
        if args[:1] == ["rules"]:
            return list_rules(args[1:])
        if args[:1] == ["server"]:
            return serve(args[1:])
        if args[:1] == ["graph"]:
            return graph_command.main(args[1:])
        if args[:1] == ["check"]:
            args = args[1:]
        return check(build_parser().parse_args(args), args)
    except ConfigError as error:
        print(f"bnlint: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        print("bnlint: interrupted", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - never a bare traceback for the user
        if "--verbose" in args:
            traceback.print_exc()
        print(f"bnlint: internal error: {type(error).__name__}: {error} (run with --verbose for details)",
              file=sys.stderr)
        return 2


def check(options: argparse.Namespace, argv: Sequence[str] = ()) -> int:
    reads_stdin = options.paths == [stdin.PATH]
    if options.stdin_filename is not None and not reads_stdin:
        raise ConfigError("--stdin-filename needs '-' as the only path")
    config_paths = [options.stdin_filename or "."] if reads_stdin else options.paths
    settings = load_settings(config_paths, config=options.config, isolated=options.isolated)
    # Computed from the config file's settings alone, as the replay that reads it does.
    record = replay.record_path(options, settings, argv) if argv and replay.replayable(options) else None
    settings.select = split_codes(options.select)
    settings.extend_select = split_codes(options.extend_select)
    settings.ignore = split_codes(options.ignore)
    if options.fail_on is not None:
        settings.fail_on = Severity.parse(options.fail_on)
    if options.image_data_format is not None:
        settings.image_data_format = options.image_data_format
    if options.exclude is not None:
        settings.exclude = split_globs(options.exclude)
    if options.extend_exclude is not None:
        settings.extend_exclude += split_globs(options.extend_exclude)
    if options.dropout_threshold is not None:
        if not 0 <= options.dropout_threshold <= 1:
            raise ConfigError("--dropout-threshold must be between 0 and 1")
        settings.dropout_threshold = options.dropout_threshold
    settings.force_exclude = options.force_exclude
    _dynamic_options(options, settings)
    select_rules(settings)  # validates the selectors before any file is read
    if options.show_settings:
        sys.stdout.write(settings_output.render(settings, config_paths))
        return 0
    if options.show_files:
        files = [options.stdin_filename or stdin.PATH] if reads_stdin else \
            [str(path) for path in discover(options.paths, settings.exclude_patterns(), settings.force_exclude)]
        sys.stdout.write("".join(f"{path}\n" for path in files))
        return 0
    if reads_stdin:
        return check_stdin(options, settings)
    if options.add_noqa:
        comments, files_changed = noqa.add_noqa_paths(options.paths, settings)
        print(f"Added {comments} noqa directive{'s' if comments != 1 else ''} in {files_changed} "
              f"file{'s' if files_changed != 1 else ''}.")
        return 0
    if options.jobs is not None and options.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    cache = None if options.no_cache else ResultCache(
        Path(options.cache_dir) if options.cache_dir else default_cache_dir(settings), settings)
    progress = ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    if options.diff:
        return fix_command.diff(options.paths, settings, options.unsafe_fixes)
    fixed: list[FixOutcome] = []
    diagnostics = []
    internal_errors = 0
    linted = []
    visited: list[str] = []
    results = fix_command.fix(options.paths, settings, options.unsafe_fixes, fixed) if options.fix else \
        (fix_command.lint_with_fix_previews if options.output_format in ("full", "sarif")
         else fix_command.lint_with_fixability)(options.paths, settings, jobs=options.jobs or default_jobs(),
                                                cache=cache, progress=progress, visited=visited)
    results_seen = []  # kept for dynamic mode alone: at 4x the corpus they held a tenth of the parent's memory
    dependencies: list[str] = []
    for result in results:
        if options.dynamic:
            results_seen.append(result)
        linted.append(result.path)
        dependencies.extend(result.dependencies)
        diagnostics.extend(result.diagnostics)
        if result.error is not None:
            internal_errors += 1
            if progress is not None:
                progress.clear()
            print(f"{result.path}: error: {result.error}", file=sys.stderr)
    if progress is not None:
        progress.clear()
    if options.dynamic:
        cache_dir = None if options.no_cache else Path(options.cache_dir) if options.cache_dir else \
            default_cache_dir(settings)
        judged = dynamic_runner.run([r for r in results_seen if r.error is None], settings, cache_dir, sys.stderr,
                                    jobs=options.jobs or default_jobs())
        diagnostics = [d for r in results_seen if r.error is not None for d in r.diagnostics]
        diagnostics += [d for r in judged for d in r.diagnostics]
    diagnostics = _once(diagnostics)
    code = exit_code(options, settings, diagnostics, internal_errors=internal_errors > 0, changed=bool(fixed))
    context = RenderContext(color=use_color(sys.stdout, choice=options.color), rules=rule_catalog(),
                            files=tuple(linted), version=__version__, unsafe_fixes=options.unsafe_fixes,
                            fixed=fix_command.fixed_count(fixed) if options.fix else None,
                            fail_on=settings.fail_on if code == 0 else None)  # the summary says why exit 0
    if options.statistics:
        render = statistics_output.render_json if options.output_format == "json" else statistics_output.render
    else:
        render = RENDERERS[options.output_format]
    output = render(diagnostics, context)
    sys.stdout.write(output)
    if record is not None and cache is not None and code != 2 and \
            not any(d.code in FILE_PROBLEM_CODES for d in diagnostics):
        depended = [*visited, *linted, *dependencies]
        replay.write_record(record, output, code, depended)
    if options.fix and options.show_fixes:
        sys.stdout.write(fix_command.show_fixes(fixed))
    sys.stdout.flush()
    return code


def _dynamic_options(options: argparse.Namespace, settings: Settings) -> None:
    """Fold the --dynamic flags into ``settings``; refuse what dynamic mode cannot do, in one line."""
    if options.dynamic_timeout is not None:
        if options.dynamic_timeout <= 0:
            raise ConfigError("--dynamic-timeout must be more than 0 seconds")
        settings.dynamic_timeout = options.dynamic_timeout
    if options.dynamic_device is not None:
        settings.dynamic_device = options.dynamic_device
    if not options.dynamic:
        return
    if options.fix or options.diff or options.add_noqa or options.paths == [stdin.PATH]:
        raise ConfigError("--dynamic cannot be combined with --fix, --diff, --add-noqa or stdin")
    problem = dynamic_extra_missing()
    if problem:
        raise ConfigError(problem)
    print(dynamic_runner.warning(settings), file=sys.stderr, flush=True)


def exit_code(options: argparse.Namespace, settings: Settings, diagnostics: Sequence[Diagnostic], *,
              internal_errors: bool, changed: bool) -> int:
    """2 on an internal error; 1 for findings at ``fail-on`` or above, or a fix under ``--exit-non-zero-on-fix``."""
    if internal_errors:
        return 2
    if options.exit_non_zero_on_fix and changed:
        return 1
    if options.exit_zero:
        return 0
    return 1 if any(d.severity >= settings.fail_on for d in diagnostics) else 0


def check_stdin(options: argparse.Namespace, settings: Settings) -> int:
    """``bnlint -``: standard input as the file ``--stdin-filename``; ``--fix`` writes the fixed text to stdout.

    With ``--fix`` stdout carries the source alone, so the findings left go to stderr.
    """
    data = sys.stdin.buffer.read()
    name = stdin.display_name(options.stdin_filename)
    context = RenderContext(color=use_color(sys.stdout, choice=options.color), rules=rule_catalog(), files=(name,),
                            version=__version__, unsafe_fixes=options.unsafe_fixes, sources={name: data})
    if not (options.fix or options.diff):
        result = stdin.lint_stdin(data, options.stdin_filename, settings)
        if result.error is not None:
            print(f"{name}: error: {result.error}", file=sys.stderr)
        code = exit_code(options, settings, result.diagnostics, internal_errors=result.error is not None,
                         changed=False)
        sys.stdout.write(RENDERERS[options.output_format](
            result.diagnostics, replace(context, fail_on=settings.fail_on if code == 0 else None)))
        return code
    outcome = stdin.fix_stdin(data, options.stdin_filename, settings, options.unsafe_fixes)
    for kind, text in (("error", outcome.error), ("warning", outcome.problem)):
        if text is not None:
            print(f"{name}: {kind}: {text}", file=sys.stderr)
    if options.diff:
        sys.stdout.write(fix_command.unified_diff(outcome) if outcome.changed else "")
        return 2 if outcome.error else int(outcome.changed)
    sys.stdout.buffer.write(outcome.fixed)
    sys.stdout.flush()
    if outcome.remaining:
        sys.stderr.write(text_output.render(outcome.remaining, replace(context, color=use_color(sys.stderr))))
    return exit_code(options, settings, outcome.remaining, internal_errors=outcome.error is not None,
                     changed=outcome.changed)


def serve(args: list[str]) -> int:
    """``bnlint server``: the language server over stdio (needs the ``lsp`` extra)."""
    if args not in ([], ["--stdio"]):
        raise ConfigError("usage: bnlint server [--stdio]")
    try:
        from bnlint import server
    except ImportError as error:
        raise ConfigError(f"bnlint server needs pygls: pip install 'bnlint[lsp]' ({error})") from None
    server.serve()
    return 0


def _once(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted, each finding once: a helper module's finding comes from its own lint and from
    every file that traces into it."""
    unique: dict[tuple[str, int, int, str], Diagnostic] = {}
    for d in sorted(diagnostics, key=lambda d: (d.sort_key(), d.fix is None)):
        unique.setdefault((d.path, d.line, d.column, d.code), d)
    return list(unique.values())


def explain_rule(args: list[str]) -> int:
    if len(args) != 1:
        raise ConfigError("usage: bnlint rule CODE")
    rule = BY_CODE.get(args[0].upper()) or next((r for r in BY_CODE.values() if r.name == args[0]), None)
    if rule is None:
        raise ConfigError(f"unknown rule {args[0]!r} (known rules: {', '.join(BY_CODE)})")
    sys.stdout.write(rule.documentation())
    return 0


def list_rules(args: list[str]) -> int:
    if args in (["--output-format", "json"], ["--output-format=json"]):
        sys.stdout.write(json.dumps([rule_json(r) for r in rule_catalog()], indent=2) + "\n")
        return 0
    if args not in ([], ["--markdown"], ["--output-format", "text"], ["--output-format=text"]):
        raise ConfigError("usage: bnlint rules [--markdown | --output-format text|json]")
    if args == ["--markdown"]:
        sys.stdout.write(rules_markdown_table())
        return 0
    rows = [("code", "name", "severity", "default", "fix")]
    # Every code a run can report, the file problems (E9xx) included, so a CI gate knows them all.
    rows += [(r.code, r.name, r.severity.label, "on" if r.enabled_by_default else "off", r.fix_safety)
             for r in rule_catalog()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def rule_json(rule: RuleInfo) -> dict[str, object]:
    """One code's metadata for tools: what ``bnlint rules`` shows, and the rule's full documentation."""
    return {"code": rule.code, "name": rule.name, "summary": rule.summary, "severity": rule.severity.label,
            "enabled_by_default": rule.enabled_by_default, "fix": rule.fix_safety,
            "documentation": rule.documentation}


def rules_markdown_table() -> str:
    """The README's rule table, made from the rules' own metadata."""
    lines = ["| code | name | severity | default | fix | what it finds |", "| --- | --- | --- | --- | --- | --- |"]
    # Every BN code, unused-suppression (BN900) included, in code order; the file problems (E9xx) are listed apart.
    codes = sorted((r for r in rule_catalog() if r.code.startswith("BN")), key=lambda r: r.code)
    lines += [f"| {r.code} | `{r.name}` | {r.severity.label} | {'on' if r.enabled_by_default else 'off'} | "
              f"{r.fix_safety} | {r.summary} |" for r in codes]
    return "\n".join(lines) + "\n"
