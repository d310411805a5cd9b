"""The fork server: import TensorFlow once, then fork one child per file and watch it.

``python -m bnlint.dynamic.zygote`` reads one JSON request per line on stdin and
answers one JSON report per line on stdout. It imports TensorFlow and Keras and
runs nothing else with them: no tensor, no session, no device query (CUDA does
not survive a fork), so no TensorFlow thread pool exists when it forks. Each
child gets its own process group; the zygote enforces the time limit and a
resident-memory ceiling by killing that group, and turns a child's death (a
signal, ``os._exit``, a time-out) into a report with the reason, so one file's
crash never reaches the zygote or the run.
"""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from typing import Any

_POLL_SECONDS = 0.05


def main() -> int:
    started = time.monotonic()
    try:
        import keras
        import tensorflow as tf

        from bnlint.dynamic import child
    except BaseException as error:  # noqa: BLE001 - a broken TensorFlow install is reported, not raised
        _answer({"ready": False, "error": f"{type(error).__name__}: {error}"})
        return 1
    _answer({"ready": True, "tensorflow": tf.__version__, "keras": keras.__version__,
             "import_seconds": round(time.monotonic() - started, 3)})
    for line in sys.stdin:
        if line.strip():
            _answer(serve(json.loads(line), child.run))
    return 0


def serve(request: dict[str, Any], run: Any) -> dict[str, Any]:
    """Fork a child that runs ``run(request, fd)``, wait for its report within the limits, reap it."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(reading)
            os.setpgid(0, 0)
            _silence()
            run(request, writing)
        finally:
            os._exit(0)
    os.close(writing)
    try:
        text, problem = _read_report(pid, reading, request["timeout"], request["memory_mb"])
    finally:
        os.close(reading)
    status = _reap(pid, problem is not None)
    if problem is None and text:
        try:
            return json.loads(text)
        except ValueError:
            problem = "sent a damaged report"
    if problem is None:
        problem = _death(status)
    return {"status": "failed", "reason": problem, "infrastructure": True}


def _read_report(pid: int, fd: int, timeout: float, memory_mb: int) -> tuple[str, str | None]:
    """The report's text, or the reason the child was stopped before it wrote one."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "", f"timed out after {timeout:g} s"
        ready, _, _ = select.select([fd], [], [], min(left, _POLL_SECONDS))
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks).decode("utf-8", "replace"), None
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks).decode("utf-8", "replace"), None
        elif _resident_mb(pid) > memory_mb:
            return "", f"used more than {memory_mb} MiB of memory"


def _reap(pid: int, kill: bool) -> int:
    """Wait for the child (killing its whole group first when asked) and return its wait status."""
    if not kill:
        for _ in range(200):  # a child that reported exits at once; give it a second
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                _kill_group(pid)
                return status
            time.sleep(0.005)
    _kill_group(pid)
    return os.waitpid(pid, 0)[1]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the child and whatever it started
    except (ProcessLookupError, PermissionError):
        pass


def _death(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"crashed ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"exited with status {code} before reporting (os._exit, or a crash in native code)"


def _resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _silence() -> None:
    """The user's prints and TensorFlow's logs go nowhere: the zygote's stdout is the report channel."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
