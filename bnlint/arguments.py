"""The command line's flags, in a module of their own: a run that replays a cached result
parses them without importing the engine."""
from __future__ import annotations

import argparse

from bnlint import __version__

# The renderers' names (``bnlint.cli.RENDERERS`` has one for each).
OUTPUT_FORMATS = ("text", "full", "json", "sarif", "github", "junit")


def split_codes(values: list[str] | None) -> list[str]:
    return [code.strip().upper() for value in values or [] for code in value.split(",") if code.strip()]


def split_globs(values: list[str]) -> list[str]:
    return [glob.strip() for value in values for glob in value.split(",") if glob.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bnlint",
        description="Lint BatchNormalization usage in Keras / TensorFlow model code.",
        epilog="Other commands: 'bnlint rule CODE' explains a rule; 'bnlint rules' lists them all; "
               "'bnlint graph PATHS' shows the layer graphs it builds.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders to lint (default: .)")
    parser.add_argument("--select", action="append", metavar="CODES",
                        help="comma-separated codes or prefixes to enable; ALL enables every rule")
    parser.add_argument("--ignore", action="append", metavar="CODES", help="codes or prefixes to disable")
    parser.add_argument("--extend-select", action="append", metavar="CODES",
                        help="codes or prefixes to enable on top of the selection (e.g. BN900)")
    parser.add_argument("--exclude", action="append", metavar="GLOBS",
                        help="comma-separated globs of files and folders to skip (replaces the config's)")
    parser.add_argument("--extend-exclude", action="append", metavar="GLOBS",
                        help="globs to skip on top of 'exclude'")
    parser.add_argument("--config", metavar="PATH",
                        help="the config file to use (bnlint.toml or pyproject.toml), instead of searching for one")
    parser.add_argument("--isolated", action="store_true", help="ignore every config file")
    parser.add_argument("--output-format", choices=list(OUTPUT_FORMATS), default="text")
    parser.add_argument("--statistics", action="store_true", help="print how many findings of each code, not each finding")
    color = parser.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_const", const=True, default=None,
                       help="colour the output even when it is not a terminal")
    color.add_argument("--no-color", dest="color", action="store_const", const=False,
                       help="never colour the output (also: the NO_COLOR environment variable)")
    parser.add_argument("--fail-on", choices=["error", "warning", "info"], default=None,
                        help="lowest severity that makes the exit code 1 (default: warning)")
    parser.add_argument("--dropout-threshold", type=float, default=None, metavar="RATE",
                        help="BN003: lowest dropout rate reported (default: 0.2)")
    parser.add_argument("--image-data-format", choices=["channels_last", "channels_first"], default=None,
                        help="the global Keras image data format the code runs under (default: Keras's own)")
    parser.add_argument("--fix", action="store_true", help="apply the safe fixes and write the files")
    parser.add_argument("--unsafe-fixes", action="store_true",
                        help="also apply (with --fix / --diff) or count as fixable the unsafe fixes")
    parser.add_argument("--diff", action="store_true",
                        help="print the fixes as a unified diff and write nothing (exit 1 when there are any)")
    parser.add_argument("--show-fixes", action="store_true", help="with --fix, list the findings that were fixed")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="lint in N processes (default: one per CPU core)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where to keep the result cache (default: .bnlint_cache in the project root)")
    parser.add_argument("--stdin-filename", metavar="PATH",
                        help="with '-' as the path: the file standard input stands for (its config, "
                             "per-file-ignores and excludes apply; a .ipynb name reads a notebook)")
    parser.add_argument("--force-exclude", action="store_true",
                        help="apply the excludes to files named on the command line too (pre-commit passes every file)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when findings are left (usage and internal errors still exit 2)")
    parser.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="with --fix, exit 1 when a file was changed, even if no finding is left")
    parser.add_argument("--add-noqa", action="store_true",
                        help="add a '# noqa: CODE' comment to every line with a finding, and write the files")
    parser.add_argument("--show-settings", action="store_true",
                        help="print the settings this run would use (config file, rules, options), then exit")
    parser.add_argument("--show-files", action="store_true", help="print the files this run would lint, then exit")
    parser.add_argument("--dynamic", action="store_true",
                        help="also import each file and build its models with Keras to confirm or refute the "
                             "findings (runs the files' code; needs bnlint[dynamic])")
    parser.add_argument("--dynamic-timeout", type=float, default=None, metavar="SECONDS",
                        help="--dynamic: time limit per file (default: 60)")
    parser.add_argument("--dynamic-device", choices=["auto", "cpu", "gpu"], default=None,
                        help="--dynamic: build on the GPU, the CPU, or the GPU when TensorFlow sees one (default)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    return parser
