"""Running the real command line in a subprocess, on real files, for end-to-end tests."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

# BN001 at line 5, column 9: a channels_first conv followed by the default axis=-1.
AXIS_MODEL = """\
from keras import layers

def build(inputs):
    x = layers.Conv2D(32, 3, data_format="channels_first")(inputs)
    x = layers.BatchNormalization()(x)
    return x
"""

# BN020 (info, off by default: select it) at line 7, column 9 and BN003 (warning) at line 15, column 5.
MIXED_MODEL = """\
import keras
from keras import layers


def build(inputs):
    x = layers.Conv2D(32, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(32, 3)(x)
    return keras.Model(inputs, x)


model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu"),
    layers.Dropout(0.5),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(axis=-1),
    layers.Activation("sigmoid"),
    layers.Flatten(),
    layers.Dense(10),
])
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def bnlint(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None,
           stdin: str | None = None) -> Run:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-m", "bnlint", *map(str, args)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL)
    return Run(done.returncode, done.stdout, done.stderr)
