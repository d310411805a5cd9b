"""Dynamic mode: build the models with Keras and check the static findings against the real shapes.

Only ``--dynamic`` reaches this package's runner; importing the package itself
imports neither TensorFlow nor Keras, so the catalog of dynamic rules costs
nothing in a static run. The parent side (``runner``) schedules files, keeps
the cache and matches verdicts; a fork server (``zygote``) imports TensorFlow
once and forks one child per file (``child``), which imports the user's file,
builds its models and reports every BatchNormalization layer it built.
"""
from __future__ import annotations

import importlib.util

INSTALL_HINT = "--dynamic needs TensorFlow and Keras 3: pip install 'bnlint[dynamic]'"


def missing_extra() -> str | None:
    """The one-line install hint when TensorFlow or Keras cannot be imported here, else None.

    Looks for the packages without importing them: TensorFlow's import takes
    seconds, and the zygote pays it once in its own process.
    """
    for package in ("tensorflow", "keras"):
        try:
            if importlib.util.find_spec(package) is None:
                return INSTALL_HINT
        except (ImportError, ValueError):
            return INSTALL_HINT
    return None
