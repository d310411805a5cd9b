"""The parent's handle on the fork server: start it once, send it files, start it again if it dies."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bnlint

# TensorFlow's import alone can take half a minute on a busy machine.
_START_SECONDS = 600
# Beyond a child's own time limit: the fork, the report's transfer, the reaping.
_MARGIN_SECONDS = 30


class ServerFailed(Exception):
    """The fork server could not start (TensorFlow does not import) or stopped answering."""


class ZygoteClient:
    def __init__(self, device: str) -> None:
        self.device = device
        self.process: subprocess.Popen[str] | None = None
        self.versions: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        """Start the server; its ready message (TensorFlow and Keras versions, import seconds)."""
        environment = dict(os.environ)
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        environment.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        if self.device == "cpu":
            environment["CUDA_VISIBLE_DEVICES"] = ""  # before TensorFlow's import, or it takes the GPU anyway
        package_root = str(Path(bnlint.__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, environment.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bnlint.dynamic.zygote"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=environment,
        )
        ready = self._receive(_START_SECONDS)
        if not ready.get("ready"):
            self.close()
            raise ServerFailed(f"TensorFlow/Keras failed to import: {ready.get('error', 'no answer')}")
        self.versions = ready
        return ready

    def build(self, request: dict[str, Any]) -> dict[str, Any]:
        """The child's report for one file; a dead server is started again for the next file."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            return self._receive(request["timeout"] + _MARGIN_SECONDS)
        except (OSError, ServerFailed) as error:
            self.close()
            return {"status": "failed", "reason": f"the build server stopped unexpectedly ({error})",
                    "infrastructure": True}

    def _receive(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServerFailed("no answer in time")
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                line = self.process.stdout.readline()
                if not line:
                    raise ServerFailed("it exited")
                try:
                    return json.loads(line)
                except ValueError:
                    raise ServerFailed("it sent a damaged answer") from None

    def close(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.process = None
