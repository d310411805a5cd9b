"""Config files: discovery, validation, every key, and how command-line flags override them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bnlint.config import (
    ConfigError,
    RuleSelection,
    Settings,
    apply_config,
    find_config,
    load_settings,
    resolve_codes,
)
from bnlint.diagnostics import Severity

from cliutil import AXIS_MODEL, MIXED_MODEL, bnlint, write

# --- discovery ---------------------------------------------------------------


def test_nearest_config_wins_walking_up(tmp_path: Path) -> None:
    write(tmp_path / "bnlint.toml", "select = ['BN001']\n")
    inner = write(tmp_path / "pkg" / "bnlint.toml", "select = ['BN003']\n")
    model = write(tmp_path / "pkg" / "sub" / "m.py", AXIS_MODEL)
    assert find_config([str(model)]) == inner
    assert find_config([str(tmp_path / "pkg")]) == inner
    assert find_config([str(tmp_path)]) == tmp_path / "bnlint.toml"


def test_bnlint_toml_beats_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\nselect = ['BN003']\n")
    write(tmp_path / "bnlint.toml", "select = ['BN001']\n")
    assert find_config([str(tmp_path)]) == tmp_path / "bnlint.toml"


def test_pyproject_without_a_bnlint_table_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\nfail-on = 'error'\n")
    write(tmp_path / "app" / "pyproject.toml", "[project]\nname = 'app'\n")
    model = write(tmp_path / "app" / "m.py", AXIS_MODEL)
    assert find_config([str(model)]) == tmp_path / "pyproject.toml"


def test_an_empty_bnlint_table_still_counts(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\n")
    write(tmp_path / "bnlint.toml", "")
    assert find_config([str(tmp_path / "x")]) == tmp_path / "bnlint.toml"
    (tmp_path / "bnlint.toml").unlink()
    assert find_config([str(tmp_path / "x")]) == tmp_path / "pyproject.toml"


def test_search_starts_at_the_common_parent_of_all_paths(tmp_path: Path) -> None:
    write(tmp_path / "bnlint.toml", "")
    write(tmp_path / "a" / "bnlint.toml", "")  # only under one of the two paths: not used
    a = write(tmp_path / "a" / "m.py", AXIS_MODEL)
    b = write(tmp_path / "b" / "m.py", AXIS_MODEL)
    assert find_config([str(a), str(b)]) == tmp_path / "bnlint.toml"


def test_no_config_anywhere_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings([str(tmp_path)])
    if settings.config_file is not None:  # a config above the temporary folder on this machine
        pytest.skip(f"unexpected config file {settings.config_file}")
    assert settings == Settings()


# --- every key ---------------------------------------------------------------


def test_every_key_is_read(tmp_path: Path) -> None:
    config = write(tmp_path / "bnlint.toml", """
        select = ["BN00"]
        extend-select = ["bn900"]
        ignore = ["BN002"]
        exclude = ["legacy"]
        extend-exclude = ["*_pb2.py"]
        fail-on = "error"
        dropout-threshold = 0.35
        image-data-format = "channels_first"
        max-file-size = 2048

        [per-file-ignores]
        "tests/*" = ["BN001", "BN003"]
    """)
    settings = load_settings([str(tmp_path)])
    assert settings.config_file == config
    assert settings.config_selection == RuleSelection(("BN00",), ("BN900",), ("BN002",), origin=str(config))
    assert settings.exclude == ["legacy"] and settings.extend_exclude == ["*_pb2.py"]
    assert settings.fail_on is Severity.ERROR
    assert settings.dropout_threshold == 0.35
    assert settings.image_data_format == "channels_first"
    assert settings.max_file_size == 2048
    [rule] = settings.per_file_ignores
    assert (rule.pattern, rule.codes, rule.base) == ("tests/*", ("BN001", "BN003"), tmp_path)


def test_defaults_of_the_rule_options() -> None:
    assert Settings().dropout_threshold == 0.2


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n\n[tool.bnlint]\ndropout-threshold = 0.5\n")
    assert load_settings([str(tmp_path)]).dropout_threshold == 0.5


# --- validation ---------------------------------------------------------------

BAD_VALUES = [
    ("dropout_threshold = 0.3", "'dropout_threshold'", "did you mean 'dropout-threshold'"),
    ("selct = ['BN001']", "'selct'", "did you mean 'select'"),
    ("frobnicate = 1", "'frobnicate'", "known keys: select"),
    ("dropout-threshold = 'high'", "'dropout-threshold'", "expected a number, got a string"),
    ("dropout-threshold = 1.5", "'dropout-threshold'", "between 0 and 1"),
    ("dropout-threshold = true", "'dropout-threshold'", "expected a number, got a boolean"),
    ("image-data-format = 'channels-first'", "'image-data-format'", "did you mean 'channels_first'"),
    ("fail-on = 'warn'", "'fail-on'", "did you mean 'warning'"),
    ("max-file-size = -1", "'max-file-size'", "at least 1"),
    ("max-file-size = 1.5", "'max-file-size'", "expected an integer, got a number"),
    ("max-file-sise = 10", "'max-file-sise'", "did you mean 'max-file-size'"),
    ("select = 'BN001'", "'select'", "expected a list of strings"),
    ("ignore = ['BN-1']", "'ignore'", "not a rule code or prefix"),
    ("exclude = [1]", "'exclude'", "expected a list of strings"),
    ("per-file-ignores = ['x']", "'per-file-ignores'", "expected a table"),
    ("[per-file-ignores]\n'x.py' = 'BN001'", "'per-file-ignores.x.py'", "expected a list of strings"),
]


@pytest.mark.parametrize(("line", "key", "problem"), BAD_VALUES)
def test_bad_key_or_value_is_an_error_naming_file_key_and_fix(tmp_path: Path, line: str, key: str,
                                                              problem: str) -> None:
    config = write(tmp_path / "bnlint.toml", line + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings([str(tmp_path)])
    message = str(caught.value)
    assert str(config) in message and key in message and problem in message


def test_unknown_rule_selector_in_config_names_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "bnlint.toml", "select = ['BN0099']\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint(".", cwd=tmp_path)
    assert run.returncode == 2
    assert str(config) in run.stderr and "'BN0099'" in run.stderr and "Traceback" not in run.stderr


def test_cli_reports_a_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\ndropout_threshold = 0.3\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "pyproject.toml" in run.stderr and "did you mean 'dropout-threshold'" in run.stderr
    assert "Traceback" not in run.stderr


def test_invalid_toml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path / "bnlint.toml", "select = [\n")
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 2
    assert "bnlint.toml" in run.stderr and "invalid TOML" in run.stderr


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "m.py", AXIS_MODEL)
    run = bnlint("--config", "nope.toml", "m.py", cwd=tmp_path)
    assert run.returncode == 2 and "nope.toml" in run.stderr and "not found" in run.stderr


# --- rule selection layers ------------------------------------------------------

DEFAULTS = {"BN001": True, "BN002": True, "BN003": True, "BN008": False, "BN900": False}


@pytest.mark.parametrize(("layers", "enabled"), [
    ([], {"BN001", "BN002", "BN003"}),
    ([RuleSelection(select=("BN001",))], {"BN001"}),
    ([RuleSelection(extend_select=("BN008",))], {"BN001", "BN002", "BN003", "BN008"}),
    ([RuleSelection(ignore=("BN00",))], set()),
    ([RuleSelection(select=("ALL",), ignore=("BN002",))], {"BN001", "BN003", "BN008"}),
    # the more specific selector wins inside a layer; a tie goes to ignore
    ([RuleSelection(select=("BN003",), ignore=("BN00",))], {"BN003"}),
    ([RuleSelection(select=("BN00",), ignore=("BN003",))], {"BN001", "BN002", "BN008"}),
    ([RuleSelection(select=("BN001",), ignore=("BN001",))], set()),
    # a later layer (the command line) overrides an earlier one (the config)
    ([RuleSelection(ignore=("BN003",)), RuleSelection(select=("BN003",))], {"BN003"}),
    ([RuleSelection(select=("BN001",)), RuleSelection(ignore=("BN001",))], set()),
    ([RuleSelection(select=("BN001",)), RuleSelection(extend_select=("BN002",))], {"BN001", "BN002"}),
    # BN900 only by a selector with digits
    ([RuleSelection(select=("ALL",))], {"BN001", "BN002", "BN003", "BN008"}),
    ([RuleSelection(select=("BN",))], {"BN001", "BN002", "BN003", "BN008"}),
    ([RuleSelection(extend_select=("BN900",))], {"BN001", "BN002", "BN003", "BN900"}),
    ([RuleSelection(extend_select=("BN9",))], {"BN001", "BN002", "BN003", "BN900"}),
])
def test_rule_selection_layers(layers: list[RuleSelection], enabled: set[str]) -> None:
    assert resolve_codes(layers, DEFAULTS, explicit_only=["BN900"]) == enabled


def test_unknown_selector_gets_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"the command line: unknown rule selector 'BN0010'"):
        resolve_codes([RuleSelection(select=("BN0010",))], DEFAULTS)


# --- end to end: config through the real command line ------------------------------


def test_config_select_and_cli_override(tmp_path: Path) -> None:
    write(tmp_path / "m.py", MIXED_MODEL)
    default = _codes(bnlint("m.py", cwd=tmp_path).stdout)
    assert "BN003" in default and "BN020" not in default  # BN020 is off by default
    write(tmp_path / "bnlint.toml", "select = ['BN003']\n")
    assert _codes(bnlint("m.py", cwd=tmp_path).stdout) == {"BN003"}
    assert _codes(bnlint("m.py", "--select", "BN020", cwd=tmp_path).stdout) == {"BN020"}
    assert _codes(bnlint("m.py", "--extend-select", "BN020", cwd=tmp_path).stdout) == {"BN020", "BN003"}
    isolated = _codes(bnlint("m.py", "--isolated", cwd=tmp_path).stdout)
    assert "BN003" in isolated and "BN020" not in isolated


def test_config_ignore_then_cli_select_reenables(tmp_path: Path) -> None:
    write(tmp_path / "m.py", MIXED_MODEL)
    write(tmp_path / "pyproject.toml", "[tool.bnlint]\nignore = ['BN003']\n")
    assert "BN003" not in _codes(bnlint("m.py", cwd=tmp_path).stdout)
    assert _codes(bnlint("m.py", "--select", "BN003", cwd=tmp_path).stdout) == {"BN003"}


def test_config_found_from_a_subfolder_and_from_outside(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "bnlint.toml", "ignore = ['BN001']\n")
    write(project / "src" / "m.py", AXIS_MODEL)
    assert bnlint("m.py", cwd=project / "src").returncode == 0
    assert bnlint("project/src/m.py", cwd=tmp_path).returncode == 0
    assert bnlint("project/src/m.py", "--isolated", cwd=tmp_path).returncode == 1


def test_explicit_config_path(tmp_path: Path) -> None:
    write(tmp_path / "m.py", AXIS_MODEL)
    write(tmp_path / "bnlint.toml", "ignore = ['BN001']\n")
    other = write(tmp_path / "conf" / "strict.toml", "select = ['BN001']\n")
    assert bnlint("m.py", cwd=tmp_path).returncode == 0
    assert bnlint("m.py", "--config", other, cwd=tmp_path).returncode == 1
    assert bnlint("m.py", "--config", other, "--isolated", cwd=tmp_path).returncode == 1  # defaults: BN001 on


def test_fail_on_from_config_and_cli(tmp_path: Path) -> None:
    write(tmp_path / "m.py", MIXED_MODEL)  # an info (BN020, when selected) and a warning (BN003)
    write(tmp_path / "bnlint.toml", "fail-on = 'error'\n")
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 0 and "BN003" in run.stdout
    assert bnlint("m.py", "--fail-on", "warning", cwd=tmp_path).returncode == 1
    write(tmp_path / "bnlint.toml", "fail-on = 'info'\nselect = ['BN020']\n")
    assert bnlint("m.py", cwd=tmp_path).returncode == 1


def test_dropout_threshold_from_config_and_cli(tmp_path: Path) -> None:
    write(tmp_path / "m.py", MIXED_MODEL)  # Dropout(0.5)
    write(tmp_path / "bnlint.toml", "dropout-threshold = 0.6\n")
    assert "BN003" not in bnlint("m.py", cwd=tmp_path).stdout
    assert "BN003" in bnlint("m.py", "--dropout-threshold", "0.3", cwd=tmp_path).stdout


def test_image_data_format_from_config(tmp_path: Path) -> None:
    write(tmp_path / "m.py", """\
        from keras import layers

        def build(inputs):
            x = layers.Conv2D(32, 3)(inputs)
            x = layers.BatchNormalization()(x)
            return x
    """)
    assert bnlint("m.py", cwd=tmp_path).returncode == 0
    write(tmp_path / "bnlint.toml", "image-data-format = 'channels_first'\n")
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 1 and "m.py:5:9: error: BN001" in run.stdout
    assert bnlint("m.py", "--image-data-format", "channels_last", cwd=tmp_path).returncode == 0


def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    write(tmp_path / "src" / "m.py", AXIS_MODEL)
    write(tmp_path / "legacy" / "old.py", AXIS_MODEL)
    write(tmp_path / "src" / "gen_pb2.py", AXIS_MODEL)
    assert _paths(bnlint(".", cwd=tmp_path).stdout) == {"legacy/old.py", "src/gen_pb2.py", "src/m.py"}
    write(tmp_path / "bnlint.toml", "exclude = ['legacy']\nextend-exclude = ['*_pb2.py']\n")
    assert _paths(bnlint(".", cwd=tmp_path).stdout) == {"src/m.py"}
    # --exclude replaces the config's exclude, --extend-exclude adds to it
    assert _paths(bnlint(".", "--exclude", "src", cwd=tmp_path).stdout) == {"legacy/old.py"}
    assert _paths(bnlint(".", "--extend-exclude", "m.py", cwd=tmp_path).stdout) == set()


def test_per_file_ignores_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "pyproject.toml", """\
        [tool.bnlint.per-file-ignores]
        "tests/*" = ["BN001"]
        "**/scratch_*.py" = ["BN0"]
        "gen.py" = ["ALL"]
    """)
    write(project / "tests" / "deep" / "m.py", AXIS_MODEL)
    write(project / "src" / "m.py", AXIS_MODEL)
    write(project / "src" / "tests" / "m.py", AXIS_MODEL)  # 'tests/*' is anchored at the config folder
    write(project / "src" / "scratch_a.py", AXIS_MODEL)
    write(project / "src" / "gen.py", AXIS_MODEL)
    expect = {"project/src/m.py", "project/src/tests/m.py"}
    assert _paths(bnlint("project", cwd=tmp_path).stdout) == expect
    assert _paths(bnlint(".", cwd=project).stdout) == {p.removeprefix("project/") for p in expect}


def test_max_file_size_from_config(tmp_path: Path) -> None:
    write(tmp_path / "m.py", AXIS_MODEL)
    write(tmp_path / "bnlint.toml", "max-file-size = 10\n")
    run = bnlint("m.py", cwd=tmp_path)
    assert run.returncode == 1 and "E902" in run.stdout and "too large" in run.stdout


def test_options_of_rules_bnlint_does_not_have_are_unknown_keys(tmp_path: Path) -> None:
    for key, value in (("small-batch-threshold", 4),):
        with pytest.raises(ConfigError, match=f"'{key}': unknown key"):
            apply_config(Settings(), {key: value}, tmp_path / "bnlint.toml")


def test_placement_options_are_read_and_checked(tmp_path: Path) -> None:
    settings = apply_config(Settings(), {"bn-position": "consistent", "min-conv-stack": 6}, tmp_path / "bnlint.toml")
    assert (settings.bn_position, settings.min_conv_stack) == ("consistent", 6)
    assert (Settings().bn_position, Settings().min_conv_stack) == ("pre-activation", 4)
    with pytest.raises(ConfigError, match="'bn-position': invalid value 'pre_activation' .*did you mean 'pre-activation'"):
        apply_config(Settings(), {"bn-position": "pre_activation"}, tmp_path / "bnlint.toml")
    with pytest.raises(ConfigError, match="'min-conv-stack': must be at least 2, got 1"):
        apply_config(Settings(), {"min-conv-stack": 1}, tmp_path / "bnlint.toml")


def _codes(stdout: str) -> set[str]:
    return {line.split(": ")[2].split()[0] for line in stdout.splitlines() if line.count(":") >= 3}


def _paths(stdout: str) -> set[str]:
    return {line.split(":")[0] for line in stdout.splitlines() if line.count(":") >= 3}


def test_documented_config_table_lists_every_key() -> None:
    from bnlint.config import KNOWN_KEYS

    docs = (Path(__file__).parent.parent / "docs" / "integrations.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z-]+)` \|", docs, flags=re.MULTILINE)
    assert set(documented) >= set(KNOWN_KEYS)
