"""The fork server: import TensorFlow once, then fork one child per file and watch it.

``python -m bnlint.dynamic.zygote JOBS`` reads JSON requests, one per line, on
stdin and answers each with one JSON report line on stdout, tagged with the
request's ``id``; up to JOBS children build at once. It imports TensorFlow and
Keras and runs nothing with them: no tensor, no session, no device query (CUDA
does not survive a fork), so no TensorFlow thread pool exists when it forks.
Each child gets its own process group; the zygote enforces the time limit and a
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
from collections.abc import Callable
from typing import Any

_POLL_SECONDS = 0.05

Run = Callable[[dict[str, Any], int], None]


class Child:
    """One forked child building one file, and what it has sent so far."""

    def __init__(self, request: dict[str, Any], run: Run) -> None:
        self.request = request
        self.deadline = time.monotonic() + request["timeout"]
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
        self.pid, self.fd = pid, reading
        self.chunks: list[bytes] = []

    def read(self) -> bool:
        """Take what the child sent; True once its report is complete (or it closed the pipe)."""
        chunk = os.read(self.fd, 1 << 16)
        self.chunks.append(chunk)
        return not chunk or chunk.endswith(b"\n")

    def problem(self) -> str | None:
        """Why the child must be stopped now, if it must."""
        if time.monotonic() > self.deadline:
            return f"timed out after {self.request['timeout']:g} s"
        if _resident_mb(self.pid) > self.request["memory_mb"]:
            return f"used more than {self.request['memory_mb']} MiB of memory"
        return None

    def finish(self, problem: str | None) -> dict[str, Any]:
        os.close(self.fd)
        status = _reap(self.pid, kill=problem is not None)
        text = b"".join(self.chunks).decode("utf-8", "replace")
        report: dict[str, Any] | None = None
        if problem is None and text:
            try:
                report = json.loads(text)
            except ValueError:
                problem = "sent a damaged report"
        if report is None:
            report = {"status": "failed", "reason": problem or _death(status), "infrastructure": True}
        report["id"] = self.request.get("id")
        return report


def main() -> int:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
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
    serve(jobs, child.run)
    return 0


def serve(jobs: int, run: Run) -> None:
    """Answer requests until stdin closes and the last child is done."""
    waiting: list[dict[str, Any]] = []
    running: dict[int, Child] = {}
    pending = b""
    open_input = True
    while open_input or waiting or running:
        while waiting and len(running) < jobs:
            child = Child(waiting.pop(0), run)
            running[child.fd] = child
        watched = ([0] if open_input else []) + list(running)
        ready, _, _ = select.select(watched, [], [], _POLL_SECONDS)
        if 0 in ready:
            data = os.read(0, 1 << 16)
            open_input = bool(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            waiting += [json.loads(line) for line in lines if line.strip()]
        for fd in [fd for fd in ready if fd in running]:
            if running[fd].read():
                _answer(running.pop(fd).finish(None))
        for fd, child in list(running.items()):
            problem = child.problem()
            if problem is not None:
                _answer(running.pop(fd).finish(problem))


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
