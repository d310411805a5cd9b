"""Settings for a run: which rules, their options, and what fails the run."""
from __future__ import annotations

from dataclasses import dataclass, field

from bnlint.diagnostics import Severity


class ConfigError(Exception):
    """A usage or configuration error: exit code 2 with this message."""


@dataclass
class Settings:
    select: list[str] = field(default_factory=list)  # empty: the rules on by default
    ignore: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING
    dropout_threshold: float = 0.2
    image_data_format: str | None = None  # channels_last | channels_first | None (Keras default)
    max_file_size: int = 10 * 1024 * 1024
