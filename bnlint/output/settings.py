"""``--show-settings``: the settings a run would use, resolved, one ``key = value`` line each.

Shown in the config file's own key names and TOML spelling, so a line can be
copied into ``[tool.bnlint]``; ``enabled`` is the rule selection after every
layer (config, then the command line) has been applied.
"""
from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Sequence

from bnlint.config import Settings


def render(settings: Settings, paths: Sequence[str]) -> str:
    from bnlint.api import enabled_codes  # the engine resolves the selection; this only shows it

    rows: list[tuple[str, object]] = [
        ("config-file", str(settings.config_file) if settings.config_file else None),
        ("enabled", sorted(enabled_codes(settings))),
    ]
    if settings.config_selection is not None:
        for key in ("select", "extend-select", "ignore"):
            rows.append((f"{key} (config)", list(getattr(settings.config_selection, key.replace("-", "_")))))
    for item in dataclasses.fields(settings):
        if item.name in ("config_file", "config_selection"):
            continue
        value = getattr(settings, item.name)
        if item.name == "per_file_ignores":
            value = {f"{rule.base.as_posix()}/{rule.pattern}": list(rule.codes) for rule in value}
        elif isinstance(value, enum.Enum):
            value = value.name.lower()
        key = item.name.replace("_", "-")
        rows.append((f"{key} (command line)" if key in ("select", "extend-select", "ignore") else key, value))
    lines = [f"# Settings for {', '.join(paths)}"]
    lines += [f"{key} = {_toml(value)}" for key, value in rows]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(value)
