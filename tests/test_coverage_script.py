"""benchmarks/coverage.py on a small real folder: which BN construction sites it counts, and which reach a graph."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cliutil import write

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "coverage.py"

IN_A_GRAPH = """\
import tensorflow as tf
from tensorflow.keras import layers


def block(inputs):
    x = layers.Conv2D(8, 3)(inputs)
    x = layers.BatchNormalization()(x)
    # The low-level op on given statistics builds no layer: not a construction site.
    y = tf.nn.batch_normalization(x, 0.0, 1.0, None, None, 1e-3)
    return layers.ReLU()(x)
"""

NEVER_APPLIED = """\
from tensorflow.keras import layers

norm = layers.BatchNormalization(momentum=0.9)
"""


def test_counts_sites_per_top_level_folder_and_which_reach_a_graph(tmp_path: Path) -> None:
    write(tmp_path / "pkg_a" / "model.py", IN_A_GRAPH)
    write(tmp_path / "pkg_b" / "norms.py", NEVER_APPLIED)
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "-j", "1", "--missed", "5"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.split()}
    # folder, files, BN sites, in a graph, coverage, axis known, of covered, unapplied
    assert rows["pkg_a"][1:7] == ["1", "1", "1", "100.0%", "1", "100.0%"]
    assert rows["pkg_b"][1:5] == ["1", "1", "0", "0.0%"] and rows["pkg_b"][-1] == "1"  # built, never applied
    assert rows["TOTAL"][1:5] == ["2", "2", "1", "50.0%"]
    assert "missed  pkg_b  pkg_b/norms.py:3" in done.stdout
