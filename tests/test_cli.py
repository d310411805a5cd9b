"""The real command, end to end, in a subprocess: exit codes, formats, selection, bad input."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bnlint.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent
# ``path:line:col: severity: CODE [*] message``; ``[*]`` marks a finding that ``--fix`` would fix.
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|info): "
                  r"(?P<code>[A-Z]+\d+) (?:\[\*\] )?(?P<message>.+)$")

AXIS_BUG = """\
from keras import layers


def stem(x):
    x = layers.Conv2D(64, 7, strides=2, data_format="channels_first")(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)
"""

MIXED = """\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(3, 32, 32)),
    layers.Conv2D(32, 3, data_format="channels_first"),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dropout(0.5),
    layers.Conv2D(32, 3, data_format="channels_first", use_bias=False),
    layers.BatchNormalization(axis=1),
    layers.Activation("sigmoid"),
    layers.Flatten(),
    layers.Dense(10),
])
"""

# BN020 (info, off by default) at line 6, column 9.
INFO_ONLY = """\
from keras import layers


def block(x):
    x = layers.Conv2D(32, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(32, 3)(x)
"""

CLEAN = """\
from keras import layers


def block(x):
    x = layers.Conv2D(32, 3, use_bias=False)(x)
    x = layers.BatchNormalization(scale=False)(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(32, 3)(x)
"""

NOT_A_MODEL = """\
def add(a, b):
    return a + b
"""


def bnlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "bnlint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def parsed(stdout: str) -> tuple[list[dict[str, str]], str]:
    """The finding lines of text output, and its summary line."""
    lines = stdout.splitlines()
    assert lines, stdout
    found = []
    for text in lines[:-1]:
        match = LINE.match(text)
        assert match, text
        found.append(match.groupdict())
    return found, lines[-1]


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


# ---------------------------------------------------------------- exit codes

def test_clean_file_exits_0(tmp_path):
    write(tmp_path, "clean.py", CLEAN)
    result = bnlint("clean.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "All checks passed!\n"
    assert result.stderr == ""


def test_non_model_file_exits_0(tmp_path):
    write(tmp_path, "util.py", NOT_A_MODEL)
    result = bnlint(".", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "All checks passed!\n"


def test_findings_exit_1_with_editor_format(tmp_path):
    write(tmp_path, "stem.py", AXIS_BUG)
    result = bnlint("stem.py", cwd=tmp_path)
    assert result.returncode == 1
    found, summary = parsed(result.stdout)
    assert [(f["path"], f["line"], f["col"], f["severity"], f["code"]) for f in found] == [
        ("stem.py", "6", "9", "error", "BN001")]
    assert found[0]["message"].startswith("BatchNormalization normalizes axis -1")
    assert summary == "Found 1 problem (1 error). [*] 1 fixable with --fix."
    assert result.stderr == ""


def test_usage_error_exits_2(tmp_path):
    result = bnlint("--output-format", "yaml", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert_no_traceback(result)


# --------------------------------------------------------------- text output

def test_text_output_sorted_by_path_then_position(tmp_path):
    write(tmp_path, "b_model.py", MIXED)
    write(tmp_path, "a_stem.py", AXIS_BUG)
    write(tmp_path, "pkg/c_block.py", INFO_ONLY)
    result = bnlint(".", "--extend-select", "BN020", cwd=tmp_path)
    assert result.returncode == 1
    found, summary = parsed(result.stdout)
    rows = [(f["path"], int(f["line"]), int(f["col"]), f["code"]) for f in found]
    assert rows == [
        ("a_stem.py", 6, 9, "BN001"),
        ("b_model.py", 7, 5, "BN001"),
        ("b_model.py", 9, 5, "BN003"),
        (os.path.join("pkg", "c_block.py"), 6, 9, "BN020"),
    ]
    assert rows == sorted(rows)
    assert summary.startswith("Found 4 problems")


def test_output_is_deterministic(tmp_path):
    write(tmp_path, "b_model.py", MIXED)
    write(tmp_path, "a_stem.py", AXIS_BUG)
    first = bnlint(".", cwd=tmp_path)
    second = bnlint(".", cwd=tmp_path)
    assert first.stdout == second.stdout


# -------------------------------------------------------- select and ignore

SELECTIONS = [
    ((), ["BN001", "BN003"]),
    (("--select", "BN001"), ["BN001"]),
    (("--select", "bn003"), ["BN003"]),
    (("--select", "BN001,BN003"), ["BN001", "BN003"]),
    (("--select", "BN001", "--select", "BN003"), ["BN001", "BN003"]),
    (("--select", "BN00"), ["BN001", "BN003"]),
    (("--select", "BN"), ["BN001", "BN003"]),
    (("--select", "ALL"), ["BN001", "BN003"]),
    (("--ignore", "BN001"), ["BN003"]),
    (("--ignore", "BN00"), []),
    (("--ignore", "ALL"), []),
    (("--select", "ALL", "--ignore", "BN003"), ["BN001"]),
    (("--select", "BN003", "--ignore", "BN001"), ["BN003"]),
]


def run_all(folder: Path, commands: list[tuple[str, ...]]) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """Run several commands at once in ``folder`` (each is a separate process)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {command: pool.submit(bnlint, *command, cwd=folder) for command in commands}
    return {command: future.result() for command, future in futures.items()}


@pytest.fixture(scope="module")
def selection_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("selection")
    write(folder, "model.py", MIXED)
    return run_all(folder, [(*options, "model.py") for options, _ in SELECTIONS])


@pytest.mark.parametrize(("options", "codes"), SELECTIONS, ids=[" ".join(o) or "default" for o, _ in SELECTIONS])
def test_select_and_ignore(selection_runs, options, codes):
    result = selection_runs[(*options, "model.py")]
    assert_no_traceback(result)
    found, _ = parsed(result.stdout)
    assert [f["code"] for f in found] == codes
    assert result.returncode == (1 if codes else 0)


@pytest.mark.parametrize("selector", ["BN999", "XYZ", "BN001,NOPE"])
@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_unknown_selector_exits_2_without_traceback(tmp_path, flag, selector):
    write(tmp_path, "model.py", MIXED)
    result = bnlint(flag, selector, "model.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown rule selector" in result.stderr
    assert result.stderr.startswith("bnlint: error:")
    assert result.stdout == ""
    assert_no_traceback(result)


# --------------------------------------------------------------- JSON output

def test_json_output(tmp_path):
    write(tmp_path, "model.py", MIXED)
    result = bnlint("--output-format", "json", "model.py", cwd=tmp_path)
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert [item["code"] for item in items] == ["BN001", "BN003"]
    for item in items:
        assert {"code", "name", "message", "path", "line", "column", "end_line", "end_column", "severity",
                "fix", "dynamic"} <= set(item)
        assert item["path"] == "model.py"
        assert item["dynamic"] is None
        assert isinstance(item["line"], int) and isinstance(item["column"], int)
        assert (item["end_line"], item["end_column"]) >= (item["line"], item["column"])
    axis, dropout = items
    assert (axis["name"], axis["line"], axis["column"], axis["severity"]) == ("axis-mismatch", 7, 5, "error")
    assert (axis["end_line"], axis["end_column"]) == (7, 32)  # just past the call
    assert axis["fix"]["applicability"] == "safe"
    assert axis["fix"]["edits"] == [{"kind": "set-keyword", "keyword": "axis", "value": "1"}]
    assert (dropout["name"], dropout["line"], dropout["severity"]) == ("dropout-variance-shift", 9, "warning")
    assert dropout["fix"]["applicability"] == "unsafe"


def test_json_output_empty_list(tmp_path):
    write(tmp_path, "clean.py", CLEAN)
    result = bnlint("--output-format", "json", "clean.py", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_json_fix_is_null_without_fix(tmp_path):
    write(tmp_path, "branch.py", """\
from keras import layers


def block(x):
    x = layers.Dropout(0.3)(x)
    skip = x
    x = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(x))
    return layers.add([x, skip])
""")
    result = bnlint("--output-format", "json", "--select", "BN003", "branch.py", cwd=tmp_path)
    [item] = json.loads(result.stdout)
    assert item["fix"] is None


# ------------------------------------------------------------------ fail-on

FAIL_ON = [
    ("info_only.py", None, 0),
    ("info_only.py", "warning", 0),
    ("info_only.py", "info", 1),
    ("info_only.py", "error", 0),
    ("mixed.py", "error", 1),
    ("mixed.py", "warning", 1),
    ("mixed.py", "info", 1),
]


@pytest.fixture(scope="module")
def fail_on_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fail_on")
    write(folder, "bnlint.toml", 'extend-select = ["BN020"]\n')  # INFO_ONLY's finding is an opt-in rule
    write(folder, "info_only.py", INFO_ONLY)
    write(folder, "mixed.py", MIXED)
    return run_all(folder, [(*(("--fail-on", level) if level else ()), name) for name, level, _ in FAIL_ON])


@pytest.mark.parametrize(("name", "fail_on", "exit_code"), FAIL_ON)
def test_fail_on(fail_on_runs, name, fail_on, exit_code):
    result = fail_on_runs[(*(("--fail-on", fail_on) if fail_on else ()), name)]
    assert result.returncode == exit_code, result.stderr
    found, summary = parsed(result.stdout)
    assert found, "info findings are shown even when they do not fail the run"


def test_fail_on_error_ignores_warnings(tmp_path):
    write(tmp_path, "model.py", MIXED)
    result = bnlint("--fail-on", "error", "--select", "BN003", "model.py", cwd=tmp_path)
    assert result.returncode == 0
    found, _ = parsed(result.stdout)
    assert [f["code"] for f in found] == ["BN003"]


# ------------------------------------------------------------- rule commands

def test_rule_prints_its_documentation(tmp_path):
    result = bnlint("rule", "BN001", cwd=tmp_path)
    assert result.returncode == 0
    rule = ALL_RULES[0]
    assert result.stdout == rule.documentation()
    assert "axis-mismatch" in result.stdout and "## Example" in result.stdout


def test_rule_by_lowercase_code_and_by_name(tmp_path):
    assert bnlint("rule", "bn003", cwd=tmp_path).stdout == ALL_RULES[2].documentation()
    assert bnlint("rule", "unet-encoder-missing-bn", cwd=tmp_path).stdout == ALL_RULES[3].documentation()


def test_unknown_rule_exits_2(tmp_path):
    result = bnlint("rule", "BN999", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown rule" in result.stderr
    assert_no_traceback(result)


def test_rules_lists_the_four(tmp_path):
    result = bnlint("rules", cwd=tmp_path)
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    codes = [row[0] for row in rows if re.fullmatch(r"BN\d{3}", row[0])]
    assert codes[:4] == ["BN001", "BN002", "BN003", "BN004"]
    for rule in ALL_RULES:
        row = next(r for r in rows if r[0] == rule.code)
        assert row[1] == rule.name and row[2] == rule.severity.label


# ----------------------------------------------------------------- bad input

SYNTAX_ERROR = """\
from keras import layers


def block(x):
    x = layers.BatchNormalization()(x
    return x
"""


def test_syntax_error_is_one_e999_and_the_run_goes_on(tmp_path):
    write(tmp_path, "a_broken.py", SYNTAX_ERROR)
    write(tmp_path, "b_stem.py", AXIS_BUG)
    result = bnlint(".", cwd=tmp_path)
    assert result.returncode == 1
    assert_no_traceback(result)
    found, summary = parsed(result.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("a_broken.py", "E999"), ("b_stem.py", "BN001")]
    assert 5 <= int(found[0]["line"]) <= 6
    assert "syntax error" in found[0]["message"]


def test_syntax_error_is_not_filtered_by_select(tmp_path):
    write(tmp_path, "broken.py", SYNTAX_ERROR)
    # The prefilter may skip a file that no selected rule could fire on; any rule that reads
    # the file must see the syntax error whatever the selection.
    for selection in (["--select", "BN001"], ["--select", "BN002"], ["--ignore", "BN001"]):
        result = bnlint(*selection, "broken.py", cwd=tmp_path)
        found, _ = parsed(result.stdout)
        assert [f["code"] for f in found] == ["E999"], selection
        assert result.returncode == 1


def test_syntax_error_in_json(tmp_path):
    write(tmp_path, "broken.py", SYNTAX_ERROR)
    result = bnlint("--output-format", "json", "broken.py", cwd=tmp_path)
    [item] = json.loads(result.stdout)
    assert item["code"] == "E999" and item["severity"] == "error" and item["path"] == "broken.py"
    assert item["fix"] is None


def test_syntax_error_line_matches_python(tmp_path):
    source = ("from keras import layers\n\n\ndef block(x):\n    x = layers.BatchNormalization()(x)\n"
              "    return x +\n\n\ny = 1\n")
    with pytest.raises(SyntaxError) as python_error:
        compile(source, "broken.py", "exec")
    write(tmp_path, "broken.py", source)
    found, _ = parsed(bnlint("broken.py", cwd=tmp_path).stdout)
    assert [(f["code"], int(f["line"])) for f in found] == [("E999", python_error.value.lineno)]


def test_non_utf8_file_without_coding_cookie(tmp_path):
    write(tmp_path, "a_latin.py", "# Modèle à normaliser\n".encode("latin-1") + AXIS_BUG.encode())
    write(tmp_path, "b_stem.py", AXIS_BUG)
    result = bnlint(".", cwd=tmp_path)
    assert_no_traceback(result)
    found, _ = parsed(result.stdout)
    assert found[0]["path"] == "a_latin.py"
    assert found[0]["code"] in ("E902", "E999")
    assert [(f["path"], f["code"]) for f in found[1:]] == [("b_stem.py", "BN001")]
    assert result.returncode == 1


def test_latin1_file_with_coding_cookie_is_linted(tmp_path):
    source = "# -*- coding: latin-1 -*-\n# Modèle\n" + AXIS_BUG
    write(tmp_path, "latin.py", source.encode("latin-1"))
    result = bnlint("latin.py", cwd=tmp_path)
    found, _ = parsed(result.stdout)
    assert [(f["code"], f["line"]) for f in found] == [("BN001", "8")]


def test_binary_file(tmp_path):
    write(tmp_path, "a_blob.py", b"BatchNormalization\x00\x01\x02\xff" * 10)
    write(tmp_path, "b_stem.py", AXIS_BUG)
    result = bnlint(".", cwd=tmp_path)
    assert_no_traceback(result)
    found, _ = parsed(result.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("a_blob.py", "E902"), ("b_stem.py", "BN001")]
    assert "binary" in found[0]["message"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files with mode 000")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "a_secret.py", AXIS_BUG)
    write(tmp_path, "b_stem.py", AXIS_BUG)
    path.chmod(0)
    try:
        result = bnlint(".", cwd=tmp_path)
    finally:
        path.chmod(0o644)
    assert_no_traceback(result)
    found, _ = parsed(result.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("a_secret.py", "E902"), ("b_stem.py", "BN001")]
    assert "permission denied" in found[0]["message"]


def test_missing_path(tmp_path):
    write(tmp_path, "stem.py", AXIS_BUG)
    result = bnlint("does_not_exist.py", "stem.py", cwd=tmp_path)
    assert_no_traceback(result)
    found, _ = parsed(result.stdout)
    assert [(f["path"], f["code"]) for f in found] == [("does_not_exist.py", "E902"), ("stem.py", "BN001")]
    assert "no such file" in found[0]["message"]
    assert result.returncode == 1


def test_empty_file_and_empty_folder(tmp_path):
    write(tmp_path, "empty.py", "")
    (tmp_path / "nothing").mkdir()
    result = bnlint("empty.py", "nothing", cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode in (0, 1)
    for line in result.stdout.splitlines()[:-1]:
        assert LINE.match(line), line


ODD_CODE = {
    "star-args": """\
from keras import layers


def block(*args, **kwargs):
    x = layers.Conv2D(*args, **kwargs)(args[0])
    return layers.BatchNormalization(*args[1:], **kwargs)(x)


block(1, 2, 3, *[4, 5], **{"axis": 1})
""",
    "getattr": """\
import keras
from keras import layers

norm = getattr(layers, "BatchNormalization")
conv = getattr(keras.layers, "Conv2D")(8, 3, data_format="channels_first")


def block(x):
    return norm()(conv(x))
""",
    "walrus": """\
from keras import layers


def block(x):
    if (y := layers.Conv2D(8, 3, data_format="channels_first")(x)) is not None:
        return layers.BatchNormalization()(y := layers.ReLU()(y))
    return [z := layers.BatchNormalization()(w) for w in (x, y)]
""",
    "match": """\
from keras import layers


def norm(kind, x):
    match kind:
        case "bn":
            return layers.BatchNormalization()(x)
        case {"axis": axis}:
            return layers.BatchNormalization(axis=axis)(x)
        case [first, *rest]:
            return layers.BatchNormalization(axis=first)(x)
        case _:
            return x
""",
    "deep-nesting": "from keras import layers\n\nx = " + "(" * 200 + "1" + ")" * 200
                    + "\ny = layers.BatchNormalization()(" * 60 + "x" + ")" * 60 + "\n",
    "deep-lists": "from keras import layers\n\nx = " + "[" * 150 + "]" * 150
                  + "\ny = layers.BatchNormalization()(x)\n",
    "long-chain": "from keras import layers\n\nx = 1" + " + 1" * 600 + "\ny = layers.BatchNormalization()(x)\n",
    "recursion": """\
from keras import layers


def tower(x, depth):
    x = layers.BatchNormalization()(layers.Conv2D(8, 3, data_format="channels_first")(x))
    return tower(x, depth - 1) if depth else x


def loop(x):
    while True:
        x = layers.BatchNormalization()(x)
""",
    "async-and-decorators": """\
import functools
from keras import layers


@functools.lru_cache
def make():
    return layers.BatchNormalization()


async def block(x):
    async with lock:
        x = await make()(x)
    return [layers.BatchNormalization()(t) async for t in x]


class Meta(type):
    def __call__(cls, *a, **k):
        return super().__call__(*a, **k)


class Net(layers.Layer, metaclass=Meta):
    bn = layers.BatchNormalization()

    def call(self, x):
        return self.bn(x)
""",
    "lambda-and-comprehension": """\
from keras import layers

make_bn = lambda: layers.BatchNormalization(axis=1)
blocks = [layers.BatchNormalization() for _ in range(3)]
table = {i: layers.BatchNormalization() for i in range(2)}


def apply(x):
    for block in blocks:
        x = block(x)
    return make_bn()(table[0](x))
""",
}


@pytest.fixture(scope="module")
def odd_code_runs(tmp_path_factory):
    runs = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, source in ODD_CODE.items():
            folder = tmp_path_factory.mktemp(name)
            write(folder, f"{name}.py", source)
            write(folder, "zz_stem.py", AXIS_BUG)
            runs[name] = pool.submit(bnlint, ".", cwd=folder)
    return {name: future.result() for name, future in runs.items()}


@pytest.mark.parametrize("name", list(ODD_CODE))
def test_odd_code_never_crashes(odd_code_runs, name):
    result = odd_code_runs[name]
    assert_no_traceback(result)
    assert result.stderr == "", result.stderr
    assert result.returncode in (0, 1)
    found, summary = parsed(result.stdout)
    assert summary.startswith("Found") or summary == "All checks passed!"
    for finding in found:
        assert finding["path"] in (f"{name}.py", "zz_stem.py")
    assert ("zz_stem.py", "BN001") in [(f["path"], f["code"]) for f in found]
    problems = [f for f in found if f["path"] == f"{name}.py" and f["code"].startswith("E")]
    assert all(f["code"] == "E902" for f in problems), problems


def test_all_odd_code_in_json(tmp_path):
    for name, source in ODD_CODE.items():
        write(tmp_path, f"{name}.py", source)
    result = bnlint("--output-format", "json", ".", cwd=tmp_path)
    assert_no_traceback(result)
    assert result.stderr == ""
    items = json.loads(result.stdout)
    assert all(item["path"].endswith(".py") for item in items)


# ------------------------------------------------------------- the examples

def test_examples_folder(tmp_path):
    result = bnlint("examples", cwd=REPO)
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    found, summary = parsed(result.stdout)
    codes = {f["code"] for f in found}
    assert {"BN001", "BN002", "BN003", "BN004"} <= codes
    by_file: dict[str, set[str]] = {}
    for finding in found:
        by_file.setdefault(Path(finding["path"]).name, set()).add(finding["code"])
    for code, stem in [("BN001", "bn001_axis_mismatch"), ("BN002", "bn002_redundant_scale"),
                       ("BN003", "bn003_dropout_variance_shift"), ("BN004", "bn004_unet_encoder_missing_bn"),
                       ("BN010", "bn010_bn_on_output"), ("BN011", "bn011_stacked_normalization")]:
        assert code in by_file.get(f"{stem}.py", set()), (code, by_file)
        assert code not in by_file.get(f"{stem}_fixed.py", set()), (code, by_file)
    assert summary == f"Found {len(found)} problems." or summary.startswith(f"Found {len(found)} problems")


def test_check_subcommand_is_the_default(tmp_path):
    write(tmp_path, "stem.py", AXIS_BUG)
    plain = bnlint("stem.py", cwd=tmp_path)
    explicit = bnlint("check", "stem.py", cwd=tmp_path)
    assert plain.stdout == explicit.stdout and plain.returncode == explicit.returncode == 1


def test_version(tmp_path):
    result = bnlint("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("bnlint ")


def test_image_data_format_flag(tmp_path):
    write(tmp_path, "block.py", textwrap.dedent("""\
        from keras import layers


        def block(x):
            x = layers.Conv2D(8, 3)(x)
            return layers.BatchNormalization()(x)
        """))
    assert bnlint("--select", "BN001", "block.py", cwd=tmp_path).returncode == 0
    result = bnlint("--select", "BN001", "--image-data-format", "channels_first", "block.py", cwd=tmp_path)
    found, _ = parsed(result.stdout)
    assert [(f["code"], f["line"]) for f in found] == [("BN001", "6")]
    assert result.returncode == 1


def test_dropout_threshold_flag(tmp_path):
    write(tmp_path, "block.py", """\
from keras import layers


def block(x):
    x = layers.Dropout(0.1)(x)
    return layers.BatchNormalization()(x)
""")
    assert bnlint("--select", "BN003", "block.py", cwd=tmp_path).returncode == 0
    result = bnlint("--select", "BN003", "--dropout-threshold", "0.1", "block.py", cwd=tmp_path)
    assert result.returncode == 1
    bad = bnlint("--dropout-threshold", "1.5", "block.py", cwd=tmp_path)
    assert bad.returncode == 2 and "dropout-threshold" in bad.stderr
    assert_no_traceback(bad)


def test_readme_rule_table_is_the_rules_own_metadata() -> None:
    from bnlint.cli import rules_markdown_table

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- rules-table:start -->\n", 1)[1].split("<!-- rules-table:end -->", 1)[0]
    assert table == rules_markdown_table()
