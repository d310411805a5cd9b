"""Settings for a run: which rules, their options, and what fails the run.

Settings come from three layers, later ones winning: the built-in defaults, a
config file (``bnlint.toml``, or ``[tool.bnlint]`` in ``pyproject.toml``), and
the command line.
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint.diagnostics import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib


class ConfigError(Exception):
    """A usage or configuration error: exit code 2 with this message."""


@dataclass(frozen=True)
class RuleSelection:
    """One layer of rule selection (a config file's, then the command line's)."""

    select: tuple[str, ...] = ()  # empty: keep what the previous layer enabled
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    origin: str = "the command line"  # named in error messages


@dataclass(frozen=True)
class PerFileIgnore:
    pattern: str  # a glob, relative to ``base``
    codes: tuple[str, ...]
    base: Path


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)  # empty: the rules on by default
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING
    dropout_threshold: float = 0.2
    # BN008/BN017: where a BN goes relative to its layer's activation (the team's convention).
    bn_position: str = "pre-activation"  # pre-activation | post-activation | consistent
    min_conv_stack: int = 4  # BN017: the fewest convs in a row that make a deep stack
    image_data_format: str | None = None  # channels_last | channels_first | None (Keras default)
    max_file_size: int = 2 * 1024 * 1024
    # --dynamic: per-file time limit (s), device, memory cap (MiB), the input shape of models
    # whose code gives none, and builders to call with arguments ("path.py:build(size=64)").
    dynamic_timeout: float = 60.0
    dynamic_device: str = "auto"
    dynamic_memory_limit: int = 4096
    dynamic_input_shape: list[int] | None = None
    dynamic_entries: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    force_exclude: bool = False  # excludes hold for files named explicitly too (--force-exclude)
    per_file_ignores: list[PerFileIgnore] = field(default_factory=list)
    # Rule selection from a config file, applied before select / extend_select / ignore above.
    config_selection: RuleSelection | None = None
    config_file: Path | None = None

    def selection_layers(self) -> list[RuleSelection]:
        layers = [self.config_selection] if self.config_selection else []
        return layers + [RuleSelection(tuple(self.select), tuple(self.extend_select), tuple(self.ignore))]

    def exclude_patterns(self) -> list[str]:
        return [*self.exclude, *self.extend_exclude]


CONFIG_FILES = ("bnlint.toml", "pyproject.toml")  # in this order within one folder
DATA_FORMATS = ("channels_last", "channels_first")
SEVERITIES = ("error", "warning", "info")
_SELECTOR = re.compile(r"^(ALL|[A-Z]+[0-9]*)$")


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


class _Checker:
    """Validates one config file's table, naming the file and the key in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {key!r}: {problem}")

    def choice(self, key: str, value: Any, choices: Sequence[str]) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)}")
        if value not in choices:
            hint = _did_you_mean(value, choices)
            raise self.fail(key, f"invalid value {value!r} (expected one of: {', '.join(choices)}){hint}")
        return value

    def integer(self, key: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_kind(value)}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def rate(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {_kind(value)}")
        if not 0 <= value <= 1:
            raise self.fail(key, f"must be between 0 and 1, got {value}")
        return float(value)

    def seconds(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number of seconds, got {_kind(value)}")
        if value <= 0:
            raise self.fail(key, f"must be more than 0, got {value}")
        return float(value)

    def shape(self, key: str, value: Any) -> list[int]:
        if not isinstance(value, list) or not value or \
                not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
            raise self.fail(key, "expected a list of positive integers without the batch axis, like [224, 224, 3]")
        return list(value)

    def strings(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, f"expected a list of strings, got {_kind(value)}")
        return list(value)

    def codes(self, key: str, value: Any) -> list[str]:
        codes = [code.strip().upper() for code in self.strings(key, value)]
        for code in codes:
            if not _SELECTOR.match(code):
                raise self.fail(key, f"{code!r} is not a rule code or prefix (like 'BN001', 'BN00' or 'ALL')")
        return codes


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# Every key here is read by the code below and used by the engine. An option of a
# rule bnlint does not have yet is an unknown key until the rule exists: accepting it
# would let a config promise a check that never runs.
KNOWN_KEYS = (
    "select", "ignore", "extend-select", "per-file-ignores", "exclude", "extend-exclude", "fail-on",
    "dropout-threshold", "image-data-format", "max-file-size", "bn-position", "min-conv-stack",
    "dynamic-timeout", "dynamic-device", "dynamic-memory-limit", "dynamic-input-shape", "dynamic-entry",
)
DYNAMIC_DEVICES = ("auto", "cpu", "gpu")
BN_POSITIONS = ("pre-activation", "post-activation", "consistent")


def apply_config(settings: Settings, table: Mapping[str, Any], path: Path) -> Settings:
    """Fold a config table (already read from ``path``) into ``settings``, validating every key."""
    check = _Checker(str(path))
    for key in table:
        if key not in KNOWN_KEYS:
            hint = _did_you_mean(key, KNOWN_KEYS) or f" (known keys: {', '.join(KNOWN_KEYS)})"
            raise check.fail(key, f"unknown key{hint}")
    get = table.get
    base = path.parent
    if any(key in table for key in ("select", "extend-select", "ignore")):
        settings.config_selection = RuleSelection(
            tuple(check.codes("select", get("select", []))),
            tuple(check.codes("extend-select", get("extend-select", []))),
            tuple(check.codes("ignore", get("ignore", []))),
            origin=str(path),
        )
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, dict):
            raise check.fail("per-file-ignores", f"expected a table of glob = [codes], got {_kind(value)}")
        settings.per_file_ignores = [
            PerFileIgnore(pattern, tuple(check.codes(f"per-file-ignores.{pattern}", codes)), base)
            for pattern, codes in value.items()
        ]
    if "exclude" in table:
        settings.exclude = check.strings("exclude", table["exclude"])
    if "extend-exclude" in table:
        settings.extend_exclude = check.strings("extend-exclude", table["extend-exclude"])
    if "fail-on" in table:
        settings.fail_on = Severity.parse(check.choice("fail-on", table["fail-on"], SEVERITIES))
    if "dropout-threshold" in table:
        settings.dropout_threshold = check.rate("dropout-threshold", table["dropout-threshold"])
    if "image-data-format" in table:
        settings.image_data_format = check.choice("image-data-format", table["image-data-format"], DATA_FORMATS)
    if "max-file-size" in table:
        settings.max_file_size = check.integer("max-file-size", table["max-file-size"], 1)
    if "bn-position" in table:
        settings.bn_position = check.choice("bn-position", table["bn-position"], BN_POSITIONS)
    if "min-conv-stack" in table:
        settings.min_conv_stack = check.integer("min-conv-stack", table["min-conv-stack"], 2)
    if "dynamic-timeout" in table:
        settings.dynamic_timeout = check.seconds("dynamic-timeout", table["dynamic-timeout"])
    if "dynamic-device" in table:
        settings.dynamic_device = check.choice("dynamic-device", table["dynamic-device"], DYNAMIC_DEVICES)
    if "dynamic-memory-limit" in table:
        settings.dynamic_memory_limit = check.integer("dynamic-memory-limit", table["dynamic-memory-limit"], 64)
    if "dynamic-input-shape" in table:
        settings.dynamic_input_shape = check.shape("dynamic-input-shape", table["dynamic-input-shape"])
    if "dynamic-entry" in table:
        entries = check.strings("dynamic-entry", table["dynamic-entry"])
        for entry in entries:
            problem = entry_problem(entry)
            if problem:
                raise check.fail("dynamic-entry", f"{entry!r}: {problem}")
        settings.dynamic_entries = [_anchored_entry(entry, base) for entry in entries]
    settings.config_file = path
    return settings


def entry_problem(entry: str) -> str:
    """What is wrong with a ``dynamic-entry`` (``"models/unet.py:build_unet(size=64)"``); empty if nothing."""
    import ast

    path, colon, call = entry.partition(".py:")
    if not colon or not path:
        return "expected 'path/to/file.py:function(arguments)'"
    try:
        expression = ast.parse(call.strip(), mode="eval").body
    except SyntaxError:
        return "the call after ':' is not valid Python"
    callee = expression.func if isinstance(expression, ast.Call) else expression
    if not all(isinstance(part, str) and part.isidentifier() for part in ast.unparse(callee).split(".")):
        return "expected a function or class name, optionally with literal arguments"
    try:
        for argument in (*expression.args, *(k.value for k in expression.keywords)) \
                if isinstance(expression, ast.Call) else ():
            ast.literal_eval(argument)
    except ValueError:
        return "arguments must be literals (numbers, strings, tuples, lists, dicts)"
    return ""


def _anchored_entry(entry: str, base: Path) -> str:
    """The entry with its path made absolute against the config file's folder, and a call."""
    path, _, call = entry.partition(".py:")
    call = call.strip()
    return f"{(base / (path + '.py')).resolve()}:{call if call.endswith(')') else call + '()'}"


def read_config(path: Path) -> dict[str, Any]:
    """The bnlint table of a config file: top level of ``bnlint.toml``, ``[tool.bnlint]`` of ``pyproject.toml``.

    Returns an empty table for a ``pyproject.toml`` without ``[tool.bnlint]``.
    """
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    if path.name != "pyproject.toml":
        return document
    table = document.get("tool", {}).get("bnlint", {}) if isinstance(document.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.bnlint' must be a table")
    return table


def has_bnlint_table(path: Path) -> bool:
    if path.name != "pyproject.toml":
        return True
    try:
        return bool(read_config(path)) or _declares_table(path)
    except ConfigError:
        return True  # a broken pyproject.toml is reported when it is loaded, not skipped silently


def _declares_table(path: Path) -> bool:
    # An empty ``[tool.bnlint]`` still marks the project root.
    with open(path, "rb") as handle:
        document = tomllib.load(handle)
    tool = document.get("tool")
    return isinstance(tool, dict) and "bnlint" in tool


def find_config(paths: Sequence[str]) -> Path | None:
    """The config file that applies to ``paths``: walk up from their common parent, first found wins.

    Within one folder ``bnlint.toml`` beats ``pyproject.toml``; a ``pyproject.toml``
    without a ``[tool.bnlint]`` table does not count.
    """
    start = _common_parent(paths)
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file() and has_bnlint_table(candidate):
                return candidate
    return None


def _common_parent(paths: Sequence[str]) -> Path:
    absolute = [Path(os.path.abspath(p)) for p in paths or ["."]]
    try:
        common = Path(os.path.commonpath([str(p) for p in absolute]))
    except ValueError:  # different drives on Windows
        common = Path.cwd()
    while not common.is_dir() and common != common.parent:
        common = common.parent
    return common


def load_settings(
    paths: Sequence[str], config: str | None = None, isolated: bool = False, settings: Settings | None = None,
) -> Settings:
    """Settings from the config file that applies to ``paths`` (or ``config``), before command-line flags."""
    settings = settings or Settings()
    if isolated:
        return settings
    path = Path(config) if config else find_config(paths)
    if path is None:
        return settings
    return apply_config(settings, read_config(path), path)


def check_per_file_ignores(settings: Settings, known: Sequence[str]) -> None:
    """Every code in ``per-file-ignores`` names a rule (or a prefix of one): a typo would ignore nothing."""
    for rule in settings.per_file_ignores:
        for code in rule.codes:
            if code != "ALL" and not any(k.startswith(code) for k in known):
                origin = settings.config_file or "the configuration"
                raise ConfigError(f"{origin}: 'per-file-ignores.{rule.pattern}': unknown rule code {code!r}"
                                  f"{code_hint(code, known)} (known rules: {', '.join(sorted(known))})")


def code_hint(selector: str, known: Iterable[str]) -> str:
    """``; did you mean 'BN003'?`` for a mistyped code; a dropped repeated digit (``BN03``) is the likeliest."""
    codes = sorted(known)
    dropped = [code for code in codes if len(code) == len(selector) + 1 and any(
        code[:i] + code[i + 1:] == selector and (code[i - 1:i] == code[i] or code[i + 1:i + 2] == code[i])
        for i in range(len(code)))]
    return f"; did you mean {dropped[0]!r}?" if dropped else _did_you_mean(selector, codes)


def resolve_codes(
    layers: Sequence[RuleSelection], default_on: Mapping[str, bool], explicit_only: Iterable[str] = (),
) -> set[str]:
    """The codes a run enables: start from the defaults, then apply each layer in order.

    Within a layer, a code takes the verdict of the most specific selector that names
    it (``BN00`` beats ``BN``, ``BN003`` beats ``BN00``); on a tie ``ignore`` wins. A
    layer whose ``select`` is empty leaves codes it does not name as they were.
    Codes in ``explicit_only`` are enabled only by a selector with digits
    (``BN900``, ``BN9``), never by ``ALL`` or a bare ``BN``.
    """
    explicit = set(explicit_only)
    known = sorted(default_on)
    enabled = {code for code, on in default_on.items() if on}
    for layer in layers:
        for selector in (*layer.select, *layer.extend_select, *layer.ignore):
            if selector != "ALL" and not any(code.startswith(selector) for code in known):
                raise ConfigError(f"{layer.origin}: unknown rule selector {selector!r}{code_hint(selector, known)} "
                                  f"(known rules: {', '.join(known)})")
        chosen = set() if layer.select else set(enabled)
        for code in known:
            selectors = (*layer.select, *layer.extend_select)
            if code in explicit:
                selectors = tuple(s for s in selectors if any(ch.isdigit() for ch in s))
            on = _specificity(code, selectors)
            off = _specificity(code, layer.ignore)
            if on > off:
                chosen.add(code)
            elif off >= 0 and off >= on:
                chosen.discard(code)
        enabled = chosen
    return enabled


def _specificity(code: str, selectors: Iterable[str]) -> int:
    """How closely the best of ``selectors`` names ``code``: -1 none, 0 ``ALL``, else the prefix length."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best
