"""Time bnlint over a corpus, side by side with a bare LibCST parse and with Ruff.

    python benchmarks/bench.py [CORPUS]    (default: $BNLINT_CORPUS, else ./corpus)

Build the corpus with ``bash ../shared/corpus/build.sh DIR``. Every bnlint run is
the real command line in a fresh process, so start-up and the pool are counted:

- cold, 1 job: ``--no-cache -j 1``
- cold, all jobs: a fresh cache folder, ``-j <cores>`` (it fills the cache)
- warm: the same command again, every model file read from the cache
- LibCST parse: ``libcst.parse_module`` on every .py file, and on the files that
  pass bnlint's prefilter (the ones bnlint parses), in one process
- Ruff: ``ruff check --select ALL --no-cache`` on the same folder, when installed
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst

from bnlint.api import select_rules
from bnlint.config import Settings
from bnlint.discovery import discover


def timed(command: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({run.returncode}):\n{run.stderr}")
    return elapsed, run.returncode


def parse_all(paths: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    failed = 0
    for path in paths:
        try:
            cst.parse_module(path.read_bytes())
        except Exception:  # noqa: BLE001 - a file LibCST cannot parse still counts as read
            failed += 1
    return time.perf_counter() - start, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=os.environ.get("BNLINT_CORPUS", "corpus"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="jobs for the parallel run")
    options = parser.parse_args()
    corpus = Path(options.corpus)
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}: build one with 'bash ../shared/corpus/build.sh {corpus}'")

    settings = Settings()
    rules = select_rules(settings)
    files = list(discover([str(corpus)]))
    screened = [p for p in files if any(rule.could_fire(p.read_bytes()) for rule in rules)]
    print(f"corpus: {corpus} — {len(files)} Python files, {len(screened)} pass the prefilter "
          f"({len(files) - len(screened)} never parsed); {os.cpu_count()} CPU cores\n")

    bnlint = [sys.executable, "-m", "bnlint", "--isolated", str(corpus)]
    rows: list[tuple[str, float, int, str]] = []
    seconds, code = timed([*bnlint, "--no-cache", "-j", "1"])
    rows.append(("bnlint cold, 1 job", seconds, len(files), f"exit {code}"))
    cache = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
    try:
        seconds, code = timed([*bnlint, "--cache-dir", str(cache), "-j", str(options.jobs)])
        rows.append((f"bnlint cold, {options.jobs} jobs", seconds, len(files), f"exit {code}"))
        seconds, code = timed([*bnlint, "--cache-dir", str(cache), "-j", str(options.jobs)])
        rows.append(("bnlint warm (cached)", seconds, len(files), f"exit {code}"))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    seconds, failed = parse_all(files)
    rows.append(("LibCST parse, all files", seconds, len(files), f"{failed} did not parse"))
    seconds, failed = parse_all(screened)
    rows.append(("LibCST parse, prefiltered", seconds, len(screened), f"{failed} did not parse"))
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        seconds, code = timed([ruff, "check", "--select", "ALL", "--no-cache", "--isolated", "--exit-zero",
                               "--quiet", str(corpus)])
        rows.append(("ruff check --select ALL", seconds, len(files), f"exit {code}"))
    else:
        rows.append(("ruff check --select ALL", float("nan"), 0, "ruff not installed"))

    print(f"{'run':<28} {'wall s':>8} {'files':>6} {'files/s':>9}  note")
    for name, seconds, count, note in rows:
        rate = count / seconds if seconds == seconds and seconds > 0 else float("nan")
        wall = f"{seconds:8.2f}" if seconds == seconds else f"{'-':>8}"
        speed = f"{rate:9.0f}" if rate == rate else f"{'-':>9}"
        print(f"{name:<28} {wall} {count:>6} {speed}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
