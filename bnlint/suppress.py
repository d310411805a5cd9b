"""Suppressions: ``# noqa``, ``# bnlint: ignore[...]``, ``# bnlint: skip-file`` and per-file-ignores.

Comments are found with the ``tokenize`` module, so a ``# noqa`` inside a string
is never taken for a directive; it runs only on files that have something to
suppress (or when unused suppressions are asked for).
"""
from __future__ import annotations

import fnmatch
import io
import os
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.config import PerFileIgnore
from bnlint.diagnostics import Diagnostic, Severity

UNUSED_SUPPRESSION = ("BN900", "unused-suppression")
UNUSED_SUPPRESSION_SUMMARY = "A `# bnlint: ignore[...]` or `# noqa: BN...` comment suppresses no finding."

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:\s*,?\s*[A-Za-z]+[0-9]+)*))?", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*bnlint:\s*ignore\[(?P<codes>[^\]]*)\]")
_SKIP_FILE = re.compile(r"#\s*bnlint:\s*skip-file\b")
_SKIP_FILE_LINE = re.compile(rb"^[ \t]*#[ \t]*bnlint:[ \t]*skip-file\b", re.MULTILINE)
_MAY_HAVE_DIRECTIVE = re.compile(rb"noqa|bnlint:", re.IGNORECASE)


@dataclass
class Directive:
    """One suppression comment (or one of several forms inside a comment)."""

    kind: str  # "noqa" or "ignore"
    line: int
    column: int  # 1-based, of the comment
    end_column: int
    text: str  # the directive as written, for messages
    codes: tuple[str, ...]  # empty: a bare ``# noqa``, everything on the line
    used: set[str] = field(default_factory=set)

    def matches(self, code: str) -> list[str]:
        if not self.codes:
            return [""]
        return [c for c in self.codes if code.startswith(c)]


def skips_file(data: bytes) -> bool:
    """Whether the file opts out with a ``# bnlint: skip-file`` comment on a line of its own."""
    if b"skip-file" not in data:
        return False
    if not _SKIP_FILE_LINE.search(data):
        return False
    try:
        # A marker inside a triple-quoted string is text, not a comment.
        return any(tok.type == tokenize.COMMENT and _SKIP_FILE.match(tok.string) and not tok.line[:tok.start[1]].strip()
                   for tok in tokenize.tokenize(io.BytesIO(data).readline))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        return True  # the line-anchored match above already looks like a comment


def directives(data: bytes) -> list[Directive]:
    """Every suppression directive in the file's comments, in source order."""
    found: list[Directive] = []
    for line, column, comment in _comments(data):
        for match in _NOQA.finditer(comment):
            codes = tuple(c.upper() for c in re.split(r"[\s,]+", match.group("codes") or "") if c)
            found.append(Directive("noqa", line, column + match.start() + 1, column + match.end() + 1,
                                   match.group(0), codes))
        for match in _IGNORE.finditer(comment):
            codes = tuple(c.strip().upper() for c in match.group("codes").split(",") if c.strip())
            if codes:
                found.append(Directive("ignore", line, column + match.start() + 1, column + match.end() + 1,
                                       match.group(0), codes))
    return found


def _comments(data: bytes) -> Iterable[tuple[int, int, str]]:
    # ``tokenize`` reads lines up to ``\n`` only; the parser, and so every finding's line,
    # also ends a line at a lone ``\r`` (old Mac files).
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        return [(tok.start[0], tok.start[1], tok.string)
                for tok in tokenize.tokenize(io.BytesIO(data).readline) if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        return list(_comments_by_line(data.decode("utf-8", errors="replace")))


def _comments_by_line(source: str) -> Iterable[tuple[int, int, str]]:
    """A fallback for code the running Python cannot tokenize: ``#`` outside quotes on each line."""
    for number, text in enumerate(source.splitlines(), start=1):
        quote = None
        index = 0
        while index < len(text):
            char = text[index]
            if quote:
                if char == "\\":
                    index += 1
                elif text.startswith(quote, index):
                    index += len(quote) - 1
                    quote = None
            elif char in "'\"":
                quote = text[index:index + 3] if text[index:index + 3] in ('"""', "'''") else char
                index += len(quote) - 1
            elif char == "#":
                yield number, index, text[index:]
                break
            index += 1


def matches_path(path: str, rule: PerFileIgnore) -> bool:
    """Whether a per-file-ignores glob (relative to its config file's folder) names ``path``."""
    pattern = rule.pattern + "*" if rule.pattern.endswith("/") else rule.pattern
    absolute = Path(os.path.abspath(path))
    if fnmatch.fnmatchcase(absolute.name, pattern):
        return True
    try:
        relative = absolute.relative_to(rule.base).as_posix()
    except ValueError:
        return fnmatch.fnmatchcase(absolute.as_posix(), pattern)
    return fnmatch.fnmatchcase(relative, pattern) or (
        pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:]))


def _is_file_problem(diagnostic: Diagnostic) -> bool:
    # Parse and read errors say the file was not linted at all: nothing hides them.
    return not diagnostic.code.startswith("BN")


def apply(
    diagnostics: Sequence[Diagnostic],
    data: bytes,
    path: str,
    per_file_ignores: Sequence[PerFileIgnore] = (),
    report_unused: bool = False,
    checked_codes: Iterable[str] = (),
    known_codes: Iterable[str] = (),
) -> list[Diagnostic]:
    """The diagnostics that survive the file's suppressions, plus unused-suppression findings.

    ``checked_codes`` are the rules that ran on the file: a directive naming only
    rules that did not run is not called unused. ``known_codes`` are every code
    bnlint has, to tell an unknown code from an unused one.
    """
    ignored = [code for rule in per_file_ignores if matches_path(path, rule) for code in rule.codes]
    kept = [d for d in diagnostics
            if _is_file_problem(d) or not any(c == "ALL" or d.code.startswith(c) for c in ignored)]
    parse_failed = any(d.code == "E999" for d in kept)
    wanted = any(not _is_file_problem(d) for d in kept) or report_unused
    if parse_failed or not wanted or not _MAY_HAVE_DIRECTIVE.search(data):
        return kept
    found = directives(data)
    by_line: dict[int, list[Directive]] = {}
    for directive in found:
        by_line.setdefault(directive.line, []).append(directive)
    survivors = [d for d in kept if _is_file_problem(d) or not _suppress(d, by_line)]
    if report_unused and not any(c == "ALL" or UNUSED_SUPPRESSION[0].startswith(c) for c in ignored):
        unused = [u for u in _unused(found, path, set(checked_codes), set(known_codes)) if not _suppress(u, by_line)]
        survivors.extend(unused)
        survivors.sort(key=Diagnostic.sort_key)
    return survivors


def _suppress(diagnostic: Diagnostic, by_line: dict[int, list[Directive]]) -> bool:
    """Whether a directive on any line of the finding's span suppresses it (marking what it used)."""
    hit = False
    for line in range(diagnostic.line, max(diagnostic.line, diagnostic.end_line) + 1):
        for directive in by_line.get(line, ()):
            matched = directive.matches(diagnostic.code)
            if matched:
                directive.used.update(matched)
                hit = True
    return hit


def _unused(found: Sequence[Directive], path: str, checked: set[str], known: set[str]) -> list[Diagnostic]:
    reports = []
    for directive in found:
        if not directive.codes:
            continue  # a bare ``# noqa`` may serve other linters
        unknown = [c for c in directive.codes if c.startswith("BN") and not any(k.startswith(c) for k in known)]
        idle = [c for c in directive.codes if c not in directive.used and c not in unknown
                and c.startswith("BN") and any(k.startswith(c) for k in checked)]
        if not unknown and not idle:
            continue
        parts = []
        if idle:
            parts.append(f"no {', '.join(idle)} finding to suppress here")
        if unknown:
            parts.append(f"unknown code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
        reports.append(Diagnostic(
            UNUSED_SUPPRESSION[0], UNUSED_SUPPRESSION[1],
            f"unused suppression `{directive.text}`: {'; '.join(parts)}",
            path, directive.line, directive.column, directive.line, directive.end_column, Severity.WARNING,
        ))
    return reports
