"""The ``bnlint`` command: a warm run replays its last output (``bnlint.replay``); any other loads the engine."""
from __future__ import annotations

import sys


def main() -> int:
    from bnlint import replay

    try:
        code = replay.try_replay(sys.argv[1:])
    except BrokenPipeError:
        return 1
    except Exception:  # noqa: BLE001 - the replay is a shortcut: on any failure the full run decides
        code = None
    if code is not None:
        return code
    from bnlint.cli import main as run

    return run()
