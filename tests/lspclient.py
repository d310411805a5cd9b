"""A minimal Language Server Protocol client: ``bnlint server`` in a subprocess, JSON-RPC over its pipes.

It frames messages as the protocol says (``Content-Length`` headers), reads the
server's stdout on a thread, and lets a test wait for a response or for a
notification such as ``textDocument/publishDiagnostics``.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

TIMEOUT = 60.0


class LspClient:
    def __init__(self, cwd: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        self.process = subprocess.Popen([sys.executable, "-m", "bnlint", "server"], cwd=cwd, env=environment,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.ids = itertools.count(1)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        ident = next(self.ids)
        self.send({"id": ident, "method": method, **({"params": params} if params is not None else {})})
        while ident not in self.responses:
            self._next()
        response = self.responses.pop(ident)
        assert "error" not in response, response
        return response.get("result")

    def wait_for(self, method: str, matches: Any = lambda params: True) -> dict[str, Any]:
        """The params of the first notification ``method`` (not seen before) that ``matches``."""
        while True:
            for index, note in enumerate(self.notifications):
                if note["method"] == method and matches(note.get("params")):
                    del self.notifications[index]
                    return note.get("params")
            self._next()

    def _next(self) -> None:
        try:
            message = self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no message from the server in {TIMEOUT} s; stderr: {self._stderr()}") from None
        if message is None:
            raise AssertionError(f"the server exited; stderr: {self._stderr()}")
        if "id" in message and "method" in message:  # a request from the server: answer it
            self.send({"id": message["id"], "result": None})
        elif "id" in message:
            self.responses[message["id"]] = message
        else:
            self.notifications.append(message)

    def _stderr(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read().decode("utf-8", "replace")[-3000:]

    def initialize(self, root: Path) -> dict[str, Any]:
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                             "capabilities": {"textDocument": {"publishDiagnostics": {
                                                 "relatedInformation": True}}}})
        self.notify("initialized", {})
        return result

    def shutdown(self) -> int:
        self.request("shutdown")
        self.notify("exit")
        return self.process.wait(timeout=TIMEOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
