"""``bnlint graph`` end to end: the real CLI in a subprocess, on real files, in every format."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from cliutil import bnlint, write

SCHEMA = Path(__file__).parent.parent / "docs" / "graph-schema.json"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

# BN001 on the BN of line 7 (default axis on a channels_first conv), BN003 on the Dropout of line 12;
# the BN of line 10 takes its axis from a parameter bnlint cannot know.
TWO_BRANCH = """\
import keras
from keras import layers


def build(inputs, bn_axis):
    x = layers.Conv2D(32, 3, strides=2, data_format="channels_first")(inputs)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Activation("relu")(x)
    y = layers.Conv2D(32, 3, padding="same", data_format="channels_first")(x)
    y = layers.BatchNormalization(axis=bn_axis, epsilon=1e-3)(y)
    z = layers.concatenate([x, y], axis=1)
    z = layers.Dropout(0.5)(z)
    z = layers.Conv2D(8, 1, data_format="channels_first")(z)
    z = layers.BatchNormalization(axis=1)(z)
    return keras.Model(inputs, z)
"""

SEQUENTIAL = """\
from tensorflow import keras

model = keras.Sequential([
    keras.layers.Conv2D(16, 3, activation="relu", input_shape=(32, 32, 3)),
    keras.layers.BatchNormalization(),
    keras.layers.Flatten(),
    keras.layers.Dense(10),
])
"""

RULES = ("--select", "BN001,BN003")


def _graph(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return bnlint("graph", *args, *RULES, "--isolated", cwd=cwd, env=env)


def _json(tmp_path: Path, *paths: str, jobs: str = "1") -> dict:
    run = _graph(*paths, "--format", "json", "-j", jobs, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_text_lists_layers_in_data_flow_order_with_known_and_unknown_arguments_and_findings(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    run = _graph("model.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "model.py"
    assert lines[1].startswith('  Model "build": 10 layers')
    rows = [line.split() for line in lines[3:] if line.strip() and not line.strip().startswith("!")]
    assert [row[1] for row in rows] == ["inputs", "Conv2D", "BatchNormalization", "Activation", "Conv2D",
                                        "BatchNormalization", "concatenate", "Dropout", "Conv2D",
                                        "BatchNormalization"]
    first_bn = next(i for i, line in enumerate(lines) if line.split()[:2] == ["2", "BatchNormalization"])
    assert " 7 " in lines[first_bn] and "momentum=0.9" in lines[first_bn] and "channel_axis=1" in lines[first_bn]
    assert lines[first_bn + 1].strip().startswith("! BN001 error: BatchNormalization normalizes axis -1")
    unknown_bn = next(line for line in lines if line.split()[:2] == ["5", "BatchNormalization"])
    assert "axis=unknown(bn_axis)" in unknown_bn and "epsilon=0.001" in unknown_bn
    merge = next(line for line in lines if "concatenate (Concatenate)" in line)
    assert merge.split()[4:6] == ["3,", "5"]  # fed by the first branch's activation and the second BN
    dropout = next(i for i, line in enumerate(lines) if "Dropout" in line and not line.strip().startswith("!"))
    assert "rate=0.5" in lines[dropout]
    assert lines[dropout + 1].strip().startswith("! BN003 warning: Dropout(rate=0.5) feeds BatchNormalization")


def test_text_says_why_a_file_has_no_graph(tmp_path: Path) -> None:
    write(tmp_path / "util.py", "def f(x):\n    return x + 1\n")
    run = _graph("util.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1].startswith("  no graph: not parsed")


def test_json_follows_the_documented_schema_with_lines_and_channel_axes(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    write(tmp_path / "seq.py", SEQUENTIAL)
    document = _json(tmp_path, ".")
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(document)
    by_path = {entry["path"]: entry for entry in document["files"]}
    (graph,) = by_path["model.py"]["graphs"]
    bns = [node for node in graph["nodes"] if node["op"] == "BatchNormalization"]
    assert [(n["line"], n["column"], n["channel_axis"]) for n in bns] == [(7, 9, 1), (10, 9, 1), (14, 9, 1)]
    assert bns[1]["args"]["axis"] == {"value": None, "known": False, "expression": "bn_axis"}
    assert bns[0]["args"]["momentum"] == {"value": 0.9, "known": True, "expression": "0.9"}
    assert [f["code"] for f in bns[0]["findings"]] == ["BN001"] and not bns[1]["findings"]
    dropout = next(node for node in graph["nodes"] if node["op"] == "Dropout")
    assert (dropout["line"], [f["code"] for f in dropout["findings"]]) == (12, ["BN003"])
    merge = next(node for node in graph["nodes"] if node["op"] == "Concatenate")
    assert sorted(e["slot"] for e in graph["edges"] if e["target"] == merge["id"]) == [0, 1]
    assert graph["outputs"] == [bns[2]["id"]]
    (sequential,) = by_path["seq.py"]["graphs"]
    seq_bn = next(node for node in sequential["nodes"] if node["op"] == "BatchNormalization")
    assert (seq_bn["line"], seq_bn["channel_axis"]) == (5, 3)
    conv = next(node for node in sequential["nodes"] if node["op"] == "Conv2D")
    relu = next(node for node in sequential["nodes"] if node["implicit"])
    assert (relu["op"], relu["line"], relu["owner"]) == ("Activation", 4, conv["id"])
    assert {"source": conv["id"], "target": relu["id"], "slot": 0} in sequential["edges"]


def test_json_is_the_same_with_one_process_or_several(tmp_path: Path) -> None:
    for index in range(4):
        write(tmp_path / f"m{index}.py", TWO_BRANCH)
        write(tmp_path / f"s{index}.py", SEQUENTIAL)
    assert _json(tmp_path, ".", jobs="1") == _json(tmp_path, ".", jobs="2")


@needs_dot
def test_dot_output_is_valid_graphviz(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    run = _graph("model.py", "--format", "dot", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("digraph bnlint {")
    rendered = subprocess.run(["dot", "-Tsvg"], input=run.stdout, capture_output=True, text=True, timeout=60,
                              check=False)
    assert rendered.returncode == 0, rendered.stderr
    assert "<svg" in rendered.stdout


@needs_dot
def test_svg_is_real_svg_with_the_bn_node_and_its_finding(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    run = _graph("model.py", "--format", "svg", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    root = ElementTree.fromstring(run.stdout)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "BatchNormalization" in texts and "BN001" in texts and "BN003" in texts
    # The layer with an error is outlined in the error colour.
    assert 'stroke="#d62728"' in run.stdout


@needs_dot
def test_png_is_written_to_the_output_file(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    run = _graph("model.py", "--format", "png", "-o", "model.png", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.stdout == ""


def test_png_needs_an_output_file(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    run = _graph("model.py", "--format", "png", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.strip() == "bnlint: error: --format png needs -o FILE"


def test_svg_without_graphviz_is_one_line_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "model.py", TWO_BRANCH)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    run = _graph("model.py", "--format", "svg", cwd=tmp_path, env={"PATH": str(empty)})
    assert (run.returncode, run.stdout) == (2, "")
    assert len(run.stderr.splitlines()) == 1
    assert "needs Graphviz's 'dot' on PATH" in run.stderr


def test_help_names_the_formats(tmp_path: Path) -> None:
    run = bnlint("graph", "--help", cwd=tmp_path)
    assert run.returncode == 0
    assert "--format {text,json,dot,svg,png}" in run.stdout and "-o FILE" in run.stdout


def test_notebook_nodes_and_findings_are_placed_in_their_cells(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["import keras\n", "from keras import layers\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["A channels-first block."]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["inputs = keras.Input((3, 32, 32))\n",
                    "x = layers.Conv2D(8, 3, data_format=\"channels_first\")(inputs)\n",
                    "x = layers.BatchNormalization()(x)\n",
                    "model = keras.Model(inputs, x)\n"]},
    ]
    notebook = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    (graph,) = _json(tmp_path, "nb.ipynb")["files"][0]["graphs"]
    bn = next(node for node in graph["nodes"] if node["op"] == "BatchNormalization")
    assert (bn["cell"], bn["line"], bn["column"], bn["channel_axis"]) == (3, 3, 5, 1)
    assert [(f["code"], f["line"]) for f in bn["findings"]] == [("BN001", 3)]
    listing = _graph("nb.ipynb", cwd=tmp_path).stdout
    assert "cell 3:3" in listing and "! BN001 error" in listing
