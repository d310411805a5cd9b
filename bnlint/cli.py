"""Command line: flags become Settings, the engine lints, a renderer prints. Nothing else."""
from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from bnlint import __version__
from bnlint.api import lint_paths, select_rules
from bnlint.config import ConfigError, Settings
from bnlint.diagnostics import Severity
from bnlint.output import json as json_output
from bnlint.output import text as text_output
from bnlint.rules import ALL_RULES, BY_CODE

RENDERERS = {"text": text_output.render, "json": json_output.render}


def _codes(values: list[str] | None) -> list[str]:
    return [code.strip().upper() for value in values or [] for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bnlint",
        description="Lint BatchNormalization usage in Keras / TensorFlow model code.",
        epilog="Other commands: 'bnlint rule CODE' explains a rule; 'bnlint rules' lists them all.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders to lint (default: .)")
    parser.add_argument("--select", action="append", metavar="CODES",
                        help="comma-separated codes or prefixes to enable; ALL enables every rule")
    parser.add_argument("--ignore", action="append", metavar="CODES", help="codes or prefixes to disable")
    parser.add_argument("--output-format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--fail-on", choices=["error", "warning", "info"], default="warning",
                        help="lowest severity that makes the exit code 1 (default: warning)")
    parser.add_argument("--dropout-threshold", type=float, default=None, metavar="RATE",
                        help="BN003: lowest dropout rate reported (default: 0.2)")
    parser.add_argument("--image-data-format", choices=["channels_last", "channels_first"], default=None,
                        help="the global Keras image data format the code runs under (default: Keras's own)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["rule"]:
            return explain_rule(args[1:])
        if args[:1] == ["rules"]:
            return list_rules()
        if args[:1] == ["check"]:
            args = args[1:]
        return check(build_parser().parse_args(args))
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


def check(options: argparse.Namespace) -> int:
    settings = Settings(
        select=_codes(options.select),
        ignore=_codes(options.ignore),
        fail_on=Severity.parse(options.fail_on),
        image_data_format=options.image_data_format,
    )
    if options.dropout_threshold is not None:
        if not 0 <= options.dropout_threshold <= 1:
            raise ConfigError("--dropout-threshold must be between 0 and 1")
        settings.dropout_threshold = options.dropout_threshold
    select_rules(settings)  # validates the selectors before any file is read
    diagnostics = []
    internal_errors = 0
    for result in lint_paths(options.paths, settings):
        diagnostics.extend(result.diagnostics)
        if result.error is not None:
            internal_errors += 1
            print(f"{result.path}: error: {result.error}", file=sys.stderr)
    diagnostics.sort(key=lambda d: d.sort_key())
    sys.stdout.write(RENDERERS[options.output_format](diagnostics))
    sys.stdout.flush()
    if internal_errors:
        return 2
    return 1 if any(d.severity >= settings.fail_on for d in diagnostics) else 0


def explain_rule(args: list[str]) -> int:
    if len(args) != 1:
        raise ConfigError("usage: bnlint rule CODE")
    rule = BY_CODE.get(args[0].upper()) or next((r for r in ALL_RULES if r.name == args[0]), None)
    if rule is None:
        raise ConfigError(f"unknown rule {args[0]!r} (known rules: {', '.join(BY_CODE)})")
    sys.stdout.write(rule.documentation())
    return 0


def list_rules() -> int:
    rows = [("code", "name", "severity", "default", "fix")]
    rows += [(r.code, r.name, r.severity.label, "on" if r.enabled_by_default else "off", r.fix_safety)
             for r in ALL_RULES]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0
