"""What the child forbids the user's code: the network, training, loading from disk, unbounded memory.

This guards against accidents (a builder that downloads ImageNet weights, a
module that trains at import time), not against hostile code: dynamic mode runs
the files it is given, and says so.
"""
from __future__ import annotations

import os
import socket
import traceback
from typing import Any


class Refused(Exception):
    """The user's code asked for something a build must not do; ``reason`` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NetworkBlocked(OSError):
    """Raised instead of opening a socket: dynamic mode has no network."""


class Attempts:
    """Network attempts seen in this child: whether one came from Keras's ``get_file`` (a weights download)."""

    def __init__(self) -> None:
        self.network = 0
        self.download = 0

    def reset(self) -> None:
        self.network = self.download = 0


ATTEMPTS = Attempts()


def block_network() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        ATTEMPTS.network += 1
        if any(frame.name == "get_file" for frame in traceback.extract_stack()):
            ATTEMPTS.download += 1
        raise NetworkBlocked("network access is disabled in bnlint --dynamic")

    socket.socket.__init__ = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]


def refuse_training_and_loading() -> None:
    """Make the calls that train, evaluate or load a model raise ``Refused`` instead."""
    import keras

    def refusing(reason: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise Refused(reason)
        return refuse

    for name in ("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch"):
        setattr(keras.Model, name, refusing(f"would run the model (Model.{name})"))
    keras.Model.load_weights = refusing("would load weights from disk (load_weights)")
    keras.layers.Layer.load_weights = refusing("would load weights from disk (load_weights)")
    for module in (keras.models, keras.saving):
        module.load_model = refusing("would load a saved model from disk (load_model)")


def limit_memory(megabytes: int) -> bool:
    """Cap the address space at what the process maps now plus ``megabytes``; False where the OS cannot."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return False
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _mapped_bytes() + megabytes * 2**20
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError, AttributeError):
        return False
    return True


def _mapped_bytes() -> int:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


def failure_reason(error: BaseException, memory_mb: int) -> str:
    """What to tell the user about an exception from their code, in a few words."""
    if isinstance(error, Refused):
        return error.reason
    if ATTEMPTS.download:
        return "would download weights"
    if ATTEMPTS.network:
        return "tried to open a network connection"
    if isinstance(error, MemoryError):
        return f"ran out of memory (limit {memory_mb} MiB)"
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
