"""``bnlint graph PATHS``: flags in, the layer graphs and their findings out, in the chosen format.

Its own room beside ``cli.py`` (which only dispatches here): the options are
not the lint's, and the output is a view of the graphs, not of findings.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bnlint.api import select_rules
from bnlint.config import ConfigError, load_settings
from bnlint.graph_report import FileReport, report_paths
from bnlint.output import graph_dot, graph_json, graph_text
from bnlint.workers import default_jobs

FORMATS = ("text", "json", "dot", *graph_dot.IMAGE_FORMATS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bnlint graph",
        description="Show the layer graph bnlint builds for each model: every layer it saw, in data-flow order, "
                    "with the arguments that matter to BatchNormalization (unknown ones with their expression) "
                    "and the findings on each layer.",
        epilog="JSON schema: docs/graph-json.md. svg and png are drawn by Graphviz's 'dot', which must be on PATH.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or folders (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text: a model.summary()-like listing (default); json: the documented schema; "
                             "dot: Graphviz source; svg, png: the drawing")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output "
                                                               "(needed for png)")
    parser.add_argument("--select", action="append", metavar="CODES", help="the rules whose findings are shown")
    parser.add_argument("--extend-select", action="append", metavar="CODES", help="rules to add to the selection")
    parser.add_argument("--ignore", action="append", metavar="CODES", help="rules to leave out")
    parser.add_argument("--config", metavar="PATH", help="the config file to use, instead of searching for one")
    parser.add_argument("--isolated", action="store_true", help="ignore every config file")
    parser.add_argument("--image-data-format", choices=["channels_last", "channels_first"], default=None,
                        help="the global Keras image data format the code runs under (default: Keras's own)")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="analyse in N processes (default: one per CPU core)")
    return parser


def main(argv: Sequence[str]) -> int:
    options = build_parser().parse_args(list(argv))
    if options.format == "png" and options.output is None:
        raise ConfigError("--format png needs -o FILE")
    if options.jobs is not None and options.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    settings = load_settings(options.paths, config=options.config, isolated=options.isolated)
    settings.select = _codes(options.select)
    settings.extend_select = _codes(options.extend_select)
    settings.ignore = _codes(options.ignore)
    if options.image_data_format is not None:
        settings.image_data_format = options.image_data_format
    rules = select_rules(settings)
    if options.format in graph_dot.IMAGE_FORMATS and graph_dot.find_dot() is None:
        raise ConfigError(graph_dot.missing_message(options.format))
    reports: list[FileReport] = []
    for report in report_paths(options.paths, settings, rules, jobs=options.jobs or default_jobs()):
        reports.append(report)
        if report.error is not None:
            print(f"{report.path}: error: {report.error}", file=sys.stderr)
    output = _render(reports, options.format)
    if options.output is not None:
        try:
            Path(options.output).write_bytes(output)
        except OSError as error:
            raise ConfigError(f"cannot write {options.output}: {error.strerror or error}") from None
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    return 2 if any(report.error is not None for report in reports) else 0


def _render(reports: list[FileReport], output_format: str) -> bytes:
    if output_format == "text":
        return graph_text.render(reports).encode()
    if output_format == "json":
        return graph_json.render(reports).encode()
    dot_source = graph_dot.render(reports)
    if output_format == "dot":
        return dot_source.encode()
    return graph_dot.to_image(dot_source, output_format)


def _codes(values: list[str] | None) -> list[str]:
    return [code.strip().upper() for value in values or [] for code in value.split(",") if code.strip()]
