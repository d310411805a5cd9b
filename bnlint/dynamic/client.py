"""The parent's handle on the fork server: start it once, send it files, start it again if it dies."""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
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
    def __init__(self, device: str, jobs: int = 1) -> None:
        self.device = device
        self.jobs = max(1, jobs)
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
            [sys.executable, "-m", "bnlint.dynamic.zygote", str(self.jobs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=environment,
        )
        ready = self._receive(_START_SECONDS)
        if not ready.get("ready"):
            self.close()
            raise ServerFailed(f"TensorFlow/Keras failed to import: {ready.get('error', 'no answer')}")
        self.versions = ready
        return ready

    def build_all(self, requests: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(index, report)`` for every request, in the order the builds finish.

        At most ``jobs`` requests are in flight, so neither pipe ever fills while the
        other side waits. A server that stops answering fails the builds it held; the
        next ones go to a new server.
        """
        queue = list(enumerate(requests))
        in_flight: dict[int, dict[str, Any]] = {}
        while queue or in_flight:
            try:
                if self.process is None or self.process.poll() is not None:
                    self.start()
                while queue and len(in_flight) < self.jobs:
                    index, request = queue.pop(0)
                    in_flight[index] = request
                    self._send({**request, "id": index})
                limit = max(r["timeout"] for r in in_flight.values()) + _MARGIN_SECONDS
                report = self._receive(limit)
                index = report.pop("id")
                in_flight.pop(index)
                yield index, report
            except (OSError, ServerFailed) as error:
                self.close()
                for index in sorted(in_flight):
                    yield index, {"status": "failed", "reason": f"the build server stopped unexpectedly ({error})",
                                  "infrastructure": True}
                in_flight.clear()

    def _send(self, request: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

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
