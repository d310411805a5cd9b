"""benchmarks/bench.py: one quick real run on a tiny folder, and its tables' arithmetic."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from cliutil import AXIS_MODEL, write

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_one_run_prints_every_row_against_ruff_and_the_scaling_table(tmp_path: Path) -> None:
    ruff = bench.find_ruff() is not None  # CI's fresh environment may have none: bnlint's rows alone then
    write(tmp_path / "tree" / "model.py", AXIS_MODEL)
    write(tmp_path / "tree" / "util.py", "def add(a, b):\n    return a + b\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "tree"), "--runs", "1", "--no-examples", "--scaling"],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2 .py files; 1 pass bnlint's prefilter" in out
    jobs = os.cpu_count() or 1
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    names = ["bnlint cold, 1 job", f"bnlint warm, {jobs} jobs", "bnlint start-up", "LibCST parse alone",
             "1x (2 files)", "2x (4 files)", "4x (8 files)"]
    if jobs > 1:
        names.append(f"bnlint cold, {jobs} jobs")
    for name in names:
        assert name in rows, f"no row {name!r} in:\n{out}"
    if ruff:
        assert rows["ruff cold"].split()[3] == "1.0x"  # ruff cold is the unit of the ratios
    else:
        assert "ruff is missing" in out and "ruff cold" not in rows
        assert rows["bnlint cold, 1 job"].split()[5] == "-"  # no ratio without ruff
    assert "exit 1" in rows["bnlint cold, 1 job"]  # the model's BN001 was found: bnlint really ran
    assert list(scratch.iterdir()) == []  # the cache, the copies and the file list are gone


def _row(name: str, seconds: list[float], tree_mib: float) -> bench.Row:
    return bench.Row(name, [bench.Sample(s, 0, 2**20 * 10, int(2**20 * tree_mib)) for s in seconds])


def test_markdown_table_gives_medians_ratios_to_ruff_and_peak_memory() -> None:
    rows = [_row("bnlint cold, 1 job", [3.0, 1.0, 2.0], 40), _row("ruff cold", [0.5, 0.4, 0.6], 20)]
    lines = bench.speed_table(rows, markdown=True).splitlines()
    assert lines[0] == "| run | median wall s | ratio to ruff cold | peak RSS MiB | note |"
    assert lines[2] == "| bnlint cold, 1 job | 2.00 | 4.0x | 10 / 40 | 3 runs, 1.00-3.00 s, exit 0 |"
    assert lines[3].startswith("| ruff cold | 0.500 | 1.0x | 10 / 20 | 3 runs, 0.400-0.600 s")
    without_ruff = bench.speed_table(rows[:1], markdown=True).splitlines()
    assert without_ruff[2].startswith("| bnlint cold, 1 job | 2.00 | - |")


def test_scaling_ratios_are_per_copy_time_and_memory_against_one_copy() -> None:
    rows = [_row("1x", [1.0], 100), _row("2x", [3.0], 100), _row("4x", [4.0], 250)]
    cells = [line.split() for line in bench.scaling_table(rows, markdown=False).splitlines()[1:]]
    assert [c[1:5] for c in cells] == [["1.00", "1.00", "100", "1.00"], ["3.00", "1.50", "100", "1.00"],
                                       ["4.00", "1.00", "250", "2.50"]]
