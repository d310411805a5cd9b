"""``bnlint server`` end to end: the real server process, spoken to over JSON-RPC on its stdin and stdout."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cliutil import AXIS_MODEL, MIXED_MODEL, write
from lspclient import LspClient

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pip install -e '.[lsp]')")

FIXED_AXIS_MODEL = AXIS_MODEL.replace("BatchNormalization()", "BatchNormalization(axis=1)")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # The config the CLI would read. BN005 (a conv bias before BN) is on by default and fires on the mixed
    # model: only the server reading this selection explains its absence below.
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nselect = ["BN001", "BN003"]\n')
    write(tmp_path / "models" / "axis.py", AXIS_MODEL)
    write(tmp_path / "models" / "mixed.py", MIXED_MODEL)
    return tmp_path


@pytest.fixture
def client(project: Path) -> Iterator[LspClient]:
    lsp = LspClient(project)
    try:
        yield lsp
    finally:
        lsp.close()


def _open(client: LspClient, path: Path, text: str) -> dict[str, Any]:
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                            "text": text}})
    return client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)


def _apply(text: str, edit: dict[str, Any]) -> str:
    """The text after one LSP TextEdit (the test files are ASCII: UTF-16 offsets are character offsets)."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict[str, int]) -> int:
        return sum(len(line) for line in lines[:position["line"]]) + position["character"]

    start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
    return text[:start] + edit["newText"] + text[end:]


def _edited(action: dict[str, Any], uri: str, text: str) -> str:
    for edit in action["edit"]["changes"][uri]:
        text = _apply(text, edit)
    return text


def test_initialize_announces_what_the_server_does(client: LspClient, project: Path) -> None:
    capabilities = client.initialize(project)["capabilities"]
    assert capabilities["hoverProvider"]
    assert "quickfix" in capabilities["codeActionProvider"]["codeActionKinds"]
    assert "source.fixAll" in capabilities["codeActionProvider"]["codeActionKinds"]
    assert client.shutdown() == 0


def test_diagnostics_on_open_carry_severity_code_link_and_position(client: LspClient, project: Path) -> None:
    client.initialize(project)
    published = _open(client, project / "models" / "axis.py", AXIS_MODEL)
    [diagnostic] = published["diagnostics"]
    assert diagnostic["code"] == "BN001"
    assert diagnostic["severity"] == 1  # Error
    assert diagnostic["source"] == "bnlint"
    assert diagnostic["codeDescription"]["href"].endswith("bn001")
    # Line 5, column 9 in the CLI's 1-based terms.
    assert diagnostic["range"]["start"] == {"line": 4, "character": 8}
    assert client.shutdown() == 0


def test_the_projects_config_applies_and_related_locations_are_sent(client: LspClient, project: Path) -> None:
    client.initialize(project)
    published = _open(client, project / "models" / "mixed.py", MIXED_MODEL)
    codes = [d["code"] for d in published["diagnostics"]]
    assert codes == ["BN003"]  # BN005 is not selected by pyproject.toml, as on the command line
    [diagnostic] = published["diagnostics"]
    assert diagnostic["severity"] == 2  # Warning
    [related] = diagnostic["relatedInformation"]
    assert related["location"]["uri"] == (project / "models" / "mixed.py").as_uri()
    assert related["location"]["range"]["start"]["line"] == 16  # the BatchNormalization the Dropout feeds
    assert client.shutdown() == 0


def test_code_actions_fix_suppress_and_fix_all(client: LspClient, project: Path) -> None:
    client.initialize(project)
    uri = (project / "models" / "axis.py").as_uri()
    [diagnostic] = _open(client, project / "models" / "axis.py", AXIS_MODEL)["diagnostics"]
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})
    titles = [action["title"] for action in actions]
    fix = next(a for a in actions if "safe fix" in a["title"])
    assert fix["title"] == "Set `axis=1` (BN001, safe fix)"
    assert fix["kind"] == "quickfix" and fix["isPreferred"] is True
    assert _edited(fix, uri, AXIS_MODEL) == FIXED_AXIS_MODEL
    suppress = next(a for a in actions if "noqa" in a["title"])
    assert _edited(suppress, uri, AXIS_MODEL).splitlines()[4] == \
        "    x = layers.BatchNormalization()(x)  # noqa: BN001"
    fix_all = next(a for a in actions if a["kind"].startswith("source.fixAll"))
    assert _edited(fix_all, uri, AXIS_MODEL) == FIXED_AXIS_MODEL
    assert len(titles) == 3, titles
    assert client.shutdown() == 0


def test_unsafe_fixes_are_titled_unsafe(client: LspClient, project: Path) -> None:
    client.initialize(project)
    path = project / "models" / "pretrained.py"
    text = AXIS_MODEL + "\nmodel = build(None)\nmodel.load_weights('w.h5')\n"
    write(path, text)
    [diagnostic] = _open(client, path, text)["diagnostics"]
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": path.as_uri()}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})
    titles = [action["title"] for action in actions]
    assert "Set `axis=1` (BN001, unsafe fix)" in titles, titles
    assert not any(a["kind"].startswith("source.fixAll") for a in actions)  # nothing safe to fix
    assert client.shutdown() == 0


def test_hover_on_a_batchnormalization_shows_what_the_graph_knows(client: LspClient, project: Path) -> None:
    client.initialize(project)
    uri = (project / "models" / "axis.py").as_uri()
    _open(client, project / "models" / "axis.py", AXIS_MODEL)
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 4, "character": 20}})
    text = hover["contents"]["value"]
    assert "normalized axis: -1 (Keras default)" in text
    assert "channel axis of its input: 1 (does not match the normalized axis)" in text
    assert "data format: channels_first" in text
    assert "momentum: 0.99 (Keras default)" in text
    nothing = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                    "position": {"line": 0, "character": 2}})
    assert nothing is None
    assert client.shutdown() == 0


def test_changes_are_linted_once_typing_pauses(client: LspClient, project: Path) -> None:
    client.initialize(project)
    uri = (project / "models" / "axis.py").as_uri()
    _open(client, project / "models" / "axis.py", AXIS_MODEL)
    for version, text in ((2, AXIS_MODEL + "\n"), (3, AXIS_MODEL + "\n\n"), (4, FIXED_AXIS_MODEL)):
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [{"text": text}]})
    published = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    # Debounced: the three quick edits give one lint, of the last version, which is clean.
    assert published["version"] == 4
    assert published["diagnostics"] == []
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 5},
                                             "contentChanges": [{"text": AXIS_MODEL}]})
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    on_save = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    assert [d["code"] for d in on_save["diagnostics"]] == ["BN001"]
    assert client.shutdown() == 0


def test_an_excluded_file_gets_no_diagnostics(client: LspClient, project: Path) -> None:
    write(project / "pyproject.toml", '[tool.bnlint]\nextend-exclude = ["generated"]\n')
    client.initialize(project)
    published = _open(client, project / "generated" / "axis.py", AXIS_MODEL)
    assert published["diagnostics"] == []
    assert client.shutdown() == 0
