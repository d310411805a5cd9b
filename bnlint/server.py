"""``bnlint server``: the Language Server Protocol over stdio, for any editor with an LSP client.

It is a thin view over the engine, like the CLI's renderers: each open buffer is
linted with ``api.lint_data`` under the settings the CLI would use for that
file (its ``[tool.bnlint]`` config, per-file-ignores, excludes), its findings are
published as diagnostics, each fix is offered as a code action built by the
fixer itself, and hovering a BatchNormalization call shows what the layer graph
knows about it. Edits are linted after a short pause in typing; opening and
saving lint at once.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from bnlint import __version__, api, noqa, notebook
from bnlint.config import ConfigError, Settings, load_settings
from bnlint.diagnostics import Applicability, Diagnostic, Severity
from bnlint.discovery import is_excluded
from bnlint.fix_preview import line_replacement
from bnlint.fixer.command import mark_refusals
from bnlint.fixer.single import fixed_text
from bnlint.layer_facts import bn_layer_facts

DEBOUNCE_SECONDS = 0.3  # a pause in typing this long lints the buffer
RULE_DOCS = "https://pypi.org/project/bnlint/#{code}"  # where a diagnostic's code links to
SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error, Severity.WARNING: lsp.DiagnosticSeverity.Warning,
            Severity.INFO: lsp.DiagnosticSeverity.Information}
SOURCE = "bnlint"


@dataclass
class Linted:
    """One buffer version's lint, kept for the code actions and hovers that follow it."""

    version: int | None
    text: str
    result: api.FileResult


class BnlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("bnlint", __version__)
        self.linted: dict[str, Linted] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}

    def settings_for(self, path: str) -> Settings:
        return load_settings([path])

    def lint(self, uri: str) -> Linted | None:
        """Lint the buffer as it is now and publish its diagnostics (an empty list clears them)."""
        document = self.workspace.get_text_document(uri)
        path = _path(uri)
        try:
            settings = self.settings_for(path)
            rules = api.select_rules(settings)
        except ConfigError as error:
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, f"bnlint: {error}"))
            return None
        text = document.source
        # A notebook's findings count lines per cell, which a JSON buffer cannot show: only .py files here.
        if is_excluded(Path(path), settings.exclude_patterns()) or notebook.is_notebook(path):
            result = api.FileResult(path)
        else:
            result = api.lint_data(path, text.encode("utf-8"), settings, rules, keep_syntax=True)
            mark_refusals(result)
        linted = Linted(document.version, text, result)
        self.linted[uri] = linted
        lines = text.splitlines()
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=document.version,
            diagnostics=[to_lsp(d, uri, lines) for d in result.diagnostics]))
        return linted

    def current(self, uri: str) -> Linted | None:
        """The lint of the buffer's current version, linting again if it has changed since."""
        document = self.workspace.get_text_document(uri)
        linted = self.linted.get(uri)
        if linted is None or linted.version != document.version or linted.text != document.source:
            linted = self.lint(uri)
        return linted

    async def lint_after_pause(self, uri: str) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self.pending.pop(uri, None)
        self.lint(uri)


server = BnlintServer()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: BnlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: BnlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    waiting = ls.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()  # typing went on: only the last pause lints
    ls.pending[uri] = asyncio.ensure_future(ls.lint_after_pause(uri))


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: BnlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
    ls.lint(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: BnlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.linted.pop(uri, None)
    waiting = ls.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
    code_action_kinds=[lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.SourceFixAll]))
def code_action(ls: BnlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    linted = ls.current(uri)
    if linted is None or linted.result.syntax is None and not linted.result.diagnostics:
        return []
    lines = linted.text.splitlines()
    wanted = params.context.only
    actions: list[lsp.CodeAction] = []
    if wanted is None or any(kind.startswith(lsp.CodeActionKind.QuickFix) for kind in wanted):
        for d in linted.result.diagnostics:
            if not d.code.startswith("BN") or not _overlaps(to_lsp(d, uri, lines).range, params.range):
                continue
            fix = _fix_action(linted, d, uri, lines)
            if fix is not None:
                actions.append(fix)
            actions.append(_noqa_action(linted, d, uri, lines))
    if wanted is None or any(kind.startswith(lsp.CodeActionKind.SourceFixAll) for kind in wanted) \
            or any(kind.startswith(lsp.CodeActionKind.QuickFix) for kind in wanted):
        fix_all = _fix_all_action(ls, linted, uri)
        if fix_all is not None:
            actions.append(fix_all)
    return actions


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: BnlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
    linted = ls.current(params.text_document.uri)
    if linted is None or linted.result.syntax is None:
        return None
    lines = linted.text.splitlines()
    line = params.position.line + 1
    column = _code_points(lines, params.position.line, params.position.character) + 1
    for layer in bn_layer_facts(linted.result.syntax):
        if (layer.line, layer.column) <= (line, column) <= (layer.end_line, layer.end_column):
            return lsp.Hover(
                contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=layer.markdown()),
                range=_range(lines, layer.line, layer.column, layer.end_line, layer.end_column))
    return None


def serve() -> None:
    server.start_io()


# ---------------------------------------------------------------- conversions

def to_lsp(d: Diagnostic, uri: str, lines: list[str]) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=_range(lines, d.line, d.column, d.end_line, d.end_column),
        message=d.message,
        severity=SEVERITY[d.severity],
        code=d.code,
        code_description=lsp.CodeDescription(href=RULE_DOCS.format(code=d.code.lower())),
        source=SOURCE,
        related_information=[
            lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri, _range(lines, r.line, r.column, r.end_line, r.end_column)),
                message=r.description)
            for r in d.related
        ] or None,
        data={"code": d.code, "line": d.line, "column": d.column},
    )


def _fix_action(linted: Linted, d: Diagnostic, uri: str, lines: list[str]) -> lsp.CodeAction | None:
    if d.fix is None or "fix_refused" in d.extra or linted.result.syntax is None:
        return None
    new = fixed_text(linted.result.syntax, d, linted.result.path)
    if new is None:
        return None
    safe = d.fix.applicability is Applicability.SAFE
    return lsp.CodeAction(
        title=f"{d.fix.title} ({d.code}, {'safe' if safe else 'unsafe'} fix)",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[to_lsp(d, uri, lines)],
        is_preferred=safe,
        edit=_text_change(uri, linted.text, new.decode("utf-8")))


def _noqa_action(linted: Linted, d: Diagnostic, uri: str, lines: list[str]) -> lsp.CodeAction:
    new, _ = noqa.add_noqa(linted.text, {d.line: {d.code}})
    return lsp.CodeAction(
        title=f"Suppress {d.code} on this line (# noqa)",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[to_lsp(d, uri, lines)],
        edit=_text_change(uri, linted.text, new))


def _fix_all_action(ls: BnlintServer, linted: Linted, uri: str) -> lsp.CodeAction | None:
    if not any(d.fix is not None and d.fix.applicability is Applicability.SAFE and "fix_refused" not in d.extra
               for d in linted.result.diagnostics):
        return None
    path = linted.result.path
    settings = ls.settings_for(path)
    outcome = api.fix_data(path, linted.text.encode("utf-8"), settings, api.select_rules(settings), unsafe=False)
    if not outcome.changed:
        return None
    return lsp.CodeAction(title="Fix all safe bnlint problems", kind=lsp.CodeActionKind.SourceFixAll + ".bnlint",
                          edit=_text_change(uri, linted.text, outcome.fixed.decode("utf-8")))


def _text_change(uri: str, before: str, after: str) -> lsp.WorkspaceEdit:
    """The smallest whole-line edit that turns ``before`` into ``after``."""
    change = line_replacement(before, after)
    edit = lsp.TextEdit(range=lsp.Range(lsp.Position(change.start - 1, 0), lsp.Position(change.end - 1, 0)),
                        new_text=change.text)
    return lsp.WorkspaceEdit(changes={uri: [edit]})


def _range(lines: list[str], line: int, column: int, end_line: int, end_column: int) -> lsp.Range:
    return lsp.Range(_position(lines, line, column), _position(lines, end_line, end_column))


def _position(lines: list[str], line: int, column: int) -> lsp.Position:
    """A 1-based (line, code point column) as LSP's 0-based line and UTF-16 offset."""
    index = max(line - 1, 0)
    text = lines[index] if index < len(lines) else ""
    return lsp.Position(index, _utf16_length(text[:max(column - 1, 0)]))


def _code_points(lines: list[str], index: int, utf16: int) -> int:
    text = lines[index] if index < len(lines) else ""
    units = 0
    for count, char in enumerate(text):
        if units >= utf16:
            return count
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def _utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri

