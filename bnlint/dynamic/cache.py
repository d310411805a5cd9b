"""The dynamic cache: a child's report, kept by file content, TensorFlow/Keras versions and settings.

It lives in its own namespace (``dynamic/`` under the result cache's folder)
and stores what a build found, not verdicts: the verdicts are matched again on
every run against the static findings, which have their own cache. So an entry
depends on the child side's code alone, not on the rules or the frontend. A file
that could not be imported is not stored: a time-out or a memory blow-up may
not recur on a quieter machine, and a missing package may be installed next.
"""
from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from bnlint import __version__
from bnlint.config import Settings

_FORMAT = 1
_TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos",
                             "tensorflow-intel", "tf-nightly")


def framework_versions() -> str:
    """TensorFlow's and Keras's installed versions, read from their metadata without importing them."""
    parts = []
    for names in (_TENSORFLOW_DISTRIBUTIONS, ("keras",)):
        for name in names:
            try:
                parts.append(f"{name}={metadata.version(name)}")
                break
            except metadata.PackageNotFoundError:
                continue
    return ",".join(parts)


# The modules whose code decides what a child reports; the verdicts are matched anew on every run.
_CHILD_MODULES = ("child.py", "recorder.py", "builders.py", "sandbox.py", "zygote.py")


def child_code_fingerprint() -> str:
    """A hash of the child side's source: a report stays valid while that code is unchanged."""
    digest = hashlib.sha256(__version__.encode())
    folder = Path(__file__).parent
    for name in _CHILD_MODULES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


class DynamicCache:
    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = Path(directory) / "dynamic" / __version__
        options = {"device": settings.dynamic_device, "memory": settings.dynamic_memory_limit,
                   "input_shape": settings.dynamic_input_shape, "image_data_format": settings.image_data_format}
        self.fingerprint = hashlib.sha256(
            f"{_FORMAT}\0{child_code_fingerprint()}\0{framework_versions()}\0{json.dumps(options, sort_keys=True)}".encode()
        ).hexdigest()

    def _entry(self, path: str, entries: list[str]) -> Path:
        key = hashlib.sha256(f"{self.fingerprint}\0{os.path.abspath(path)}\0{entries}".encode()).hexdigest()
        return self.directory / key[:2] / f"{key[2:]}.json"

    def get(self, path: str, digest: str, entries: list[str]) -> dict[str, Any] | None:
        try:
            with open(self._entry(path, entries), encoding="utf-8") as handle:
                entry = json.load(handle)
            return entry["report"] if entry["digest"] == digest else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, path: str, digest: str, entries: list[str], report: dict[str, Any]) -> None:
        if report.get("status") != "ok":
            return  # a failed import may be a missing package the user installs next: try it again
        target = self._entry(path, entries)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_suffix(f".tmp{os.getpid()}")
            temporary.write_text(json.dumps({"digest": digest, "report": report}), encoding="utf-8")
            os.replace(temporary, target)
        except (OSError, TypeError, ValueError):
            return  # a cache that cannot be written slows the next run down, nothing more
