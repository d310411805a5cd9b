"""Jupyter notebooks through the real CLI: cells joined, IPython lines masked, findings per cell, fixes in place."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cliutil import bnlint, write

IMPORTS = ["%matplotlib inline\n", "!pip install keras\n", "from keras import layers\n", "import keras"]
# The model spans three code cells; cell 5 (1-based, markdown cells count) holds the BN.
BUILD_HEAD = ["def build(inputs):\n", "    x = layers.Conv2D(32, 3, data_format=\"channels_first\")(inputs)\n",
              "    return x\n"]
BUILD_BN = ["%time y = 1\n", "def finish(inputs):\n", "    x = build(inputs)\n",
            "    x = layers.BatchNormalization()(x)  # é\n", "    return x\n"]


def cell(kind: str, source: Any, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        entry = {"cell_type": "code", "execution_count": extra.pop("count", None), "metadata": {},
                 "outputs": extra.pop("outputs", []), "source": source}
    return {**entry, **extra}


def notebook(*cells: dict[str, Any], language: str = "python") -> dict[str, Any]:
    return {"cells": list(cells),
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
                         "language_info": {"name": language, "version": "3.11.7"}},
            "nbformat": 4, "nbformat_minor": 5}


def jupyter_text(document: dict[str, Any]) -> str:
    """The JSON as Jupyter writes it: one-space indent, non-ASCII kept, a final newline."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def model_notebook() -> dict[str, Any]:
    return notebook(
        cell("markdown", ["# A channels-first model\n", "Built over several cells."]),
        cell("code", IMPORTS, count=1),
        cell("code", ["%%bash\n", "echo this is not python (\n"], count=2),
        cell("code", BUILD_HEAD, count=3,
             outputs=[{"name": "stdout", "output_type": "stream", "text": ["built\n"]}]),
        cell("code", BUILD_BN, count=4),
        cell("code", ["files = !ls\n", "layers?\n", "%%capture is not a cell magic here\n"], count=5),
    )


def test_findings_name_the_cell_and_the_line_in_it(tmp_path: Path) -> None:
    write(tmp_path / "nb.ipynb", jupyter_text(model_notebook()))
    run = bnlint("nb.ipynb", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("nb.ipynb:cell 5:4:9: error: BN001 [*] BatchNormalization normalizes")
    assert "E999" not in run.stdout  # every magic and shell escape was masked


def test_a_folder_run_finds_notebooks(tmp_path: Path) -> None:
    write(tmp_path / "notebooks" / "nb.ipynb", jupyter_text(model_notebook()))
    run = bnlint(".", cwd=tmp_path)
    assert run.returncode == 1
    assert "notebooks/nb.ipynb:cell 5:4:9: error: BN001" in run.stdout


def test_json_and_sarif_carry_the_cell(tmp_path: Path) -> None:
    write(tmp_path / "nb.ipynb", jupyter_text(model_notebook()))
    [finding] = json.loads(bnlint("nb.ipynb", "--output-format", "json", cwd=tmp_path).stdout)
    assert (finding["cell"], finding["line"], finding["column"], finding["code"]) == (5, 4, 9, "BN001")
    sarif = json.loads(bnlint("nb.ipynb", "--output-format", "sarif", cwd=tmp_path).stdout)
    [result] = sarif["runs"][0]["results"]
    assert result["properties"]["cell"] == 5
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert "fixes" not in result  # its lines count in the cell, not in the JSON file a SARIF fix would edit


def test_full_output_shows_the_cells_own_lines(tmp_path: Path) -> None:
    write(tmp_path / "nb.ipynb", jupyter_text(model_notebook()))
    run = bnlint("nb.ipynb", "--output-format", "full", cwd=tmp_path)
    assert "4 |     x = layers.BatchNormalization()(x)  # é" in run.stdout
    assert "help: Set `axis=1`" in run.stdout
    # The fix as a diff, in the cell's own line numbers.
    assert "  4 -     x = layers.BatchNormalization()(x)  # é\n  4 +     x = layers.BatchNormalization(axis=1)(x)  # é\n" \
        in run.stdout


def test_fix_changes_only_the_fixed_line_of_the_fixed_cell(tmp_path: Path) -> None:
    original = jupyter_text(model_notebook())
    path = write(tmp_path / "nb.ipynb", original)
    run = bnlint("nb.ipynb", "--fix", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    old_line = json.dumps("    x = layers.BatchNormalization()(x)  # é\n", ensure_ascii=False)
    new_line = json.dumps("    x = layers.BatchNormalization(axis=1)(x)  # é\n", ensure_ascii=False)
    assert original.count(old_line) == 1
    # Byte for byte: outputs, metadata, the magics in the same cell, the JSON layout — all as they were.
    assert path.read_bytes() == original.replace(old_line, new_line).encode("utf-8")
    assert bnlint("nb.ipynb", cwd=tmp_path).returncode == 0


def test_fix_keeps_an_unusual_layout_and_ascii_escapes(tmp_path: Path) -> None:
    document = notebook(cell("code", "".join(IMPORTS) + "\n", count=1),
                        cell("code", "".join(BUILD_HEAD + BUILD_BN), count=None))
    original = json.dumps(document, indent=4, ensure_ascii=True, sort_keys=True)  # strings, not lists; no final newline
    path = write(tmp_path / "nb.ipynb", original)
    run = bnlint("nb.ipynb", "--fix", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    fixed_source = "".join(BUILD_HEAD + BUILD_BN).replace("BatchNormalization()", "BatchNormalization(axis=1)")
    expected = original.replace(json.dumps("".join(BUILD_HEAD + BUILD_BN)), json.dumps(fixed_source))
    assert path.read_text(encoding="utf-8") == expected
    assert "\\u00e9" in expected


def test_fix_keeps_the_blank_lines_that_end_a_cell(tmp_path: Path) -> None:
    trailing = BUILD_HEAD + BUILD_BN + ["\n", "\n"]  # the fixed cell ends in two blank lines
    original = jupyter_text(notebook(cell("code", IMPORTS + ["\n", "\n", "\n"]), cell("code", trailing),
                                     cell("code", ["\n"]), cell("code", [])))
    path = write(tmp_path / "nb.ipynb", original)
    assert bnlint("nb.ipynb", "--fix", "--isolated", "--select", "BN001", cwd=tmp_path).returncode == 0
    old_line = json.dumps("    x = layers.BatchNormalization()(x)  # é\n", ensure_ascii=False)
    new_line = json.dumps("    x = layers.BatchNormalization(axis=1)(x)  # é\n", ensure_ascii=False)
    assert path.read_bytes() == original.replace(old_line, new_line).encode("utf-8")


def test_a_notebook_with_nothing_to_fix_is_left_byte_identical(tmp_path: Path) -> None:
    original = jupyter_text(notebook(cell("code", ["from keras import layers\n", "x = layers.BatchNormalization()"])))
    path = write(tmp_path / "nb.ipynb", original)
    before = path.stat().st_mtime_ns
    assert bnlint("nb.ipynb", "--fix", cwd=tmp_path).returncode == 0
    assert path.read_text(encoding="utf-8") == original and path.stat().st_mtime_ns == before


def test_noqa_in_a_cell_and_per_file_ignores_apply(tmp_path: Path) -> None:
    suppressed = [line.replace("  # é", "  # noqa: BN001") for line in BUILD_BN]
    write(tmp_path / "a.ipynb", jupyter_text(notebook(cell("code", IMPORTS), cell("code", BUILD_HEAD),
                                                      cell("code", suppressed))))
    assert bnlint("a.ipynb", cwd=tmp_path).returncode == 0
    write(tmp_path / "pyproject.toml", '[tool.bnlint.per-file-ignores]\n"*.ipynb" = ["BN001"]\n')
    write(tmp_path / "b.ipynb", jupyter_text(model_notebook()))
    assert bnlint("b.ipynb", cwd=tmp_path).returncode == 0


def test_a_syntax_error_is_reported_in_its_cell(tmp_path: Path) -> None:
    write(tmp_path / "nb.ipynb", jupyter_text(notebook(
        cell("code", ["from keras import layers\n"]), cell("markdown", ["text"]),
        cell("code", ["x = layers.BatchNormalization(\n"]))))
    run = bnlint("nb.ipynb", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.startswith("nb.ipynb:cell 3:")
    assert "E999" in run.stdout


def test_broken_notebooks_are_findings_and_foreign_ones_are_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "broken.ipynb", '{"cells": [BatchNormalization')
    write(tmp_path / "r.ipynb", jupyter_text(notebook(cell("code", ["BatchNormalization <- 1"]), language="R")))
    write(tmp_path / "old.ipynb", json.dumps({"worksheets": [], "nbformat": 3, "BatchNormalization": 1}))
    run = bnlint("broken.ipynb", "r.ipynb", "old.ipynb", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("broken.ipynb:1:1: error: E902") and "invalid JSON" in line for line in lines)
    assert not any(line.startswith("r.ipynb") for line in lines)  # not Python: nothing to lint, nothing wrong
    assert any(line.startswith("old.ipynb:1:1: error: E902") and "nbformat 4" in line for line in lines)


def test_findings_are_ordered_by_cell_then_line(tmp_path: Path) -> None:
    other = ["def other(inputs):\n",
             "    return layers.BatchNormalization()(layers.Conv2D(8, 3, data_format=\"channels_first\")(inputs))\n"]
    write(tmp_path / "nb.ipynb", jupyter_text(notebook(
        cell("code", IMPORTS), cell("code", BUILD_HEAD + BUILD_BN), cell("code", other))))
    run = bnlint("nb.ipynb", "--isolated", "--select", "BN001", cwd=tmp_path)
    places = [line.split(": ")[0] for line in run.stdout.splitlines()[:-1]]
    # Line 7 of cell 2 comes before line 2 of cell 3, though 7 > 2.
    assert places == ["nb.ipynb:cell 2:7:9", "nb.ipynb:cell 3:2:12"], run.stdout


def test_a_message_names_the_cell_and_line_of_a_related_layer(tmp_path: Path) -> None:
    model = ["model = keras.Sequential([\n", "    layers.Conv2D(32, 3, activation=\"relu\"),\n",
             "    layers.Dropout(0.5),\n", "    layers.Conv2D(32, 3),\n", "    layers.BatchNormalization(),\n",
             "    layers.Activation(\"sigmoid\"),\n", "])\n"]
    write(tmp_path / "nb.ipynb", jupyter_text(notebook(cell("markdown", ["x"]), cell("code", IMPORTS),
                                                       cell("code", model))))
    run = bnlint("nb.ipynb", "--isolated", "--select", "BN003", cwd=tmp_path)
    assert "nb.ipynb:cell 3:3:5: warning: BN003" in run.stdout, run.stdout
    # The BN is on line 10 of the joined code cells; the message names it as the user sees it.
    assert "BatchNormalization (cell 3, line 5)" in run.stdout, run.stdout
