"""The documentation names only rules and config keys that exist, and every config key accepted does something."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from bnlint.config import KNOWN_KEYS, Settings, apply_config
from bnlint.output import rule_catalog

from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "examples/README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")))
INTEGRATIONS = REPO / "docs" / "integrations.md"


def _text(document: str) -> str:
    return (REPO / document).read_text(encoding="utf-8")


# --- rules and keys the documents name ----------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_rule_code_named_exists(document: str) -> None:
    known = {info.code for info in rule_catalog()}
    named = set(re.findall(r"\bBN\d{3}\b", _text(document)))
    assert named <= known, f"{document} names rules bnlint does not have: {sorted(named - known)}"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_toml_example_is_a_valid_config(document: str, tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", _text(document), flags=re.DOTALL)
    for block in blocks:
        if "[tool.bnlint" not in block and document != "docs/integrations.md":
            continue  # another tool's config (an editor's language server settings)
        parsed = tomllib.loads(block)
        table = parsed.get("tool", {}).get("bnlint", parsed)
        apply_config(Settings(), table, tmp_path / "pyproject.toml")  # raises ConfigError on an unknown key


def _documented_keys() -> dict[str, str]:
    """The config table of docs/integrations.md: key -> its default cell."""
    table = {}
    for line in INTEGRATIONS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]  # "\|" is a pipe inside a cell
        if len(cells) == 4 and re.fullmatch(r"`[a-z-]+`", cells[0]):
            table[cells[0].strip("`")] = cells[2]
    return table


def test_config_table_lists_exactly_the_keys_bnlint_reads() -> None:
    assert set(_documented_keys()) == set(KNOWN_KEYS)


def test_documented_defaults_are_the_codes_defaults() -> None:
    documented = _documented_keys()
    defaults = Settings()
    assert documented["max-file-size"].startswith(f"`{defaults.max_file_size}`")
    assert f"({defaults.max_file_size // 2**20} MiB)" in documented["max-file-size"]
    assert documented["dropout-threshold"] == f"`{defaults.dropout_threshold}`"
    assert documented["fail-on"] == f'`"{defaults.fail_on.label}"`'


# --- through the real command line ---------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [("bn-position", '"pre-activation"'), ("small-batch-threshold", "16"),
                                            ("min-conv-stack", "4")])
def test_an_option_of_a_rule_that_does_not_exist_is_a_config_error(tmp_path: Path, key: str, value: str) -> None:
    if key in KNOWN_KEYS:
        pytest.skip(f"the rule that reads {key!r} exists now")
    config = write(tmp_path / "pyproject.toml", f"[project]\nname = 'm'\n\n[tool.bnlint]\n{key} = {value}\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("bnlint: error: ") and str(config) in line and f"'{key}': unknown key" in line
    assert "Traceback" not in run.stderr


def test_a_misspelt_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\nmax-file-sise = 100\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert "pyproject.toml" in line and "'max-file-sise': unknown key; did you mean 'max-file-size'?" in line


CONV_THEN_BN = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3)(inputs)
    x = layers.BatchNormalization()(x)
    return x
"""

MIXED_ORDER = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2D(32, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return x
"""

THREE_CONVS = """\
import keras
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
"""

# For each key: the files of a project, and a config line that changes what a run on it reports
# (after the lines both runs share, for an option of an off-by-default rule).
KEY_EFFECTS = {
    "select": ({"m.py": AXIS_MODEL}, 'select = ["BN003"]'),
    "ignore": ({"m.py": AXIS_MODEL}, 'ignore = ["BN001"]'),
    "extend-select": ({"m.py": "y = 1  # noqa: BN003\n"}, 'extend-select = ["BN900"]'),
    "per-file-ignores": ({"m.py": AXIS_MODEL}, '[tool.bnlint.per-file-ignores]\n"m.py" = ["BN001"]'),
    "exclude": ({"m.py": AXIS_MODEL}, 'exclude = ["m.py"]'),
    "extend-exclude": ({"m.py": AXIS_MODEL}, 'extend-exclude = ["m.py"]'),
    "fail-on": ({"m.py": MIXED_MODEL}, 'fail-on = "error"'),
    "dropout-threshold": ({"m.py": MIXED_MODEL}, "dropout-threshold = 0.6"),
    "image-data-format": ({"m.py": CONV_THEN_BN}, 'image-data-format = "channels_first"'),
    "max-file-size": ({"m.py": AXIS_MODEL}, "max-file-size = 10"),
    "bn-position": ({"m.py": MIXED_ORDER}, 'bn-position = "post-activation"', 'extend-select = ["BN008"]'),
    "min-conv-stack": ({"m.py": THREE_CONVS}, "min-conv-stack = 3", 'extend-select = ["BN017"]'),
}


# The dynamic mode's keys act only under --dynamic, which builds the models: its own tests cover them.
DYNAMIC_KEYS = {key for key in KNOWN_KEYS if key.startswith("dynamic-")}


def test_every_accepted_key_has_an_effect_below() -> None:
    assert set(KEY_EFFECTS) == set(KNOWN_KEYS) - DYNAMIC_KEYS


@pytest.mark.parametrize("key", sorted(KEY_EFFECTS))
def test_every_accepted_key_changes_what_a_run_reports(tmp_path: Path, key: str) -> None:
    files, line, *shared = KEY_EFFECTS[key]
    for name, source in files.items():
        write(tmp_path / name, source)
    base = "[tool.bnlint]\n" + "".join(f"{common}\n" for common in shared)
    write(tmp_path / "pyproject.toml", base)
    plain = bnlint(".", "--no-cache", cwd=tmp_path)
    write(tmp_path / "pyproject.toml", (base if not line.startswith("[") else "") + line + "\n")
    configured = bnlint(".", "--no-cache", cwd=tmp_path)
    assert configured.returncode in (0, 1), configured.stderr
    assert (configured.returncode, configured.stdout) != (plain.returncode, plain.stdout), key


def test_readme_example_run_is_the_real_output() -> None:
    block = _text("README.md").split("\n$ bnlint ", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    run = bnlint(*command.split(), "--no-cache", cwd=REPO)
    assert run.stdout.splitlines() == shown
