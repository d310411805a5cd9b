"""The large fuzz run: thousands of generated files through lint, fix and fix again.

    python benchmarks/fuzz.py [--models N] [--mutations N] [--programs N] [--seed S]

The same generators and checks as ``tests/hostile/test_hostile_fuzz.py`` (which
runs a small sample in CI): generated Keras models in every style, damaged
copies of them, and ``hypothesmith`` programs. For each file: no exception
escapes, no internal error, the file returns within its budget, a fix parses,
a second fix changes nothing and no comment is lost. Prints how many files of
each kind were generated and every failure with the file that caused it; the
exit code is 1 when any failed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hostile"))

from fuzzing import check_file, model_source, mutated_source, python_programs


def run(strategy: st.SearchStrategy[bytes], examples: int, seed_value: int) -> tuple[int, list[tuple[bytes, list[str]]], float]:
    """Check ``examples`` files drawn from ``strategy``: (files checked, failures, slowest seconds)."""
    failures: list[tuple[bytes, list[str]]] = []
    checked = [0, 0.0]

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, phases=["generate"],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(data: bytes) -> None:
        check = check_file(data)
        checked[0] += 1
        checked[1] = max(checked[1], check.seconds)
        if check.failures:
            failures.append((data, check.failures))

    one()
    return int(checked[0]), failures, float(checked[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    kinds = [("generated models", model_source().map(str.encode), options.models),
             ("mutated models", mutated_source(), options.mutations),
             ("hypothesmith programs", python_programs(), options.programs)]
    failed = 0
    for label, strategy, examples in kinds:
        started = time.monotonic()
        count, failures, slowest = run(strategy, examples, options.seed)
        print(f"{label}: {count} files, {len(failures)} failures, {time.monotonic() - started:.0f} s "
              f"(slowest file {slowest:.2f} s)")
        for data, problems in failures[:20]:
            print("  " + "; ".join(problems))
            print("    " + data[:4000].decode("utf-8", "replace").replace("\n", "\n    "))
        failed += len(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
