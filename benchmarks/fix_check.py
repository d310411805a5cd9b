"""Check what ``bnlint --fix --unsafe-fixes --select ALL`` does to a whole tree of real code.

    python benchmarks/fix_check.py FOLDER [FOLDER ...]

Each folder is copied to a temporary directory and the real command line fixes the
copy (the original is never touched). Then:

- every changed file parses (LibCST) and compiles (``compile()``);
- a second ``--fix`` run over the fixed copy changes nothing;
- no changed file has more BN layers in a row, or more Dropout layers in a row, than
  the original had. "In a row" is read from bnlint's own layer graphs: a BN whose
  output reaches another BN through activations alone (Conv -> BN -> LeakyReLU -> BN
  is a second BN on the same tensor), likewise for the dropout family.

It prints the figures and exits 1 when any check fails.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from bnlint.frontend import build_graphs
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family

STACKS = ("BN->BN", "Dropout->Dropout")


@dataclass
class Report:
    """The figures of one check; ``failures`` lists every file that broke a check, with why."""

    files: int = 0
    changed: int = 0
    fixed: Counter[str] = field(default_factory=Counter)  # findings fixed, per code
    first_exit: int = 0
    second_exit: int = 0
    second_changed: int = 0
    not_parsing: int = 0
    not_compiling: int = 0
    stacks_before: Counter[str] = field(default_factory=Counter)  # in the changed files, before the fix
    stacks_after: Counter[str] = field(default_factory=Counter)
    not_analysed: int = 0  # changed files whose graphs could not be built (stacking not checked)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and self.first_exit in (0, 1) and self.second_exit in (0, 1)


def stacked_pairs(data: bytes) -> Counter[str] | None:
    """How many times a BN (or a dropout) reaches another through activations alone; None: not analysable."""
    try:
        graphs = build_graphs(cst.parse_module(data))
    except Exception:  # noqa: BLE001 - a file the frontend cannot read is reported as not analysed
        return None
    pairs: Counter[str] = Counter()
    for graph in graphs:
        for node in graph.nodes:
            kind = _kind(node)
            if kind is not None:
                pairs[kind] += sum(1 for after in _next_through_activations(graph, node) if _kind(after) == kind)
    return pairs


def _kind(node: LayerNode) -> str | None:
    if node.op == "BatchNormalization":
        return STACKS[0]
    if node.family is Family.DROPOUT:
        return STACKS[1]
    return None


def _next_through_activations(graph: LayerGraph, node: LayerNode) -> list[LayerNode]:
    """The layers ``node``'s output reaches past nothing but activations."""
    found, frontier, seen = [], list(graph.successors(node)), set()
    while frontier:
        current = frontier.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.family is Family.ACTIVATION:
            frontier.extend(graph.successors(current))
        else:
            found.append(current)
    return found


def run_fix(folder: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bnlint", "--fix", "--unsafe-fixes", "--select", "ALL", "--no-cache",
               "--show-fixes", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.py")) if p.is_file()}


def check_tree(folder: Path) -> Report:
    """Fix a copy of ``folder`` and check the result; the figures and failures are in the report."""
    report = Report()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bnlint-fix-check-") as scratch:
        tree = Path(scratch) / "tree"
        shutil.copytree(folder, tree, symlinks=True)
        before = snapshot(tree)
        report.files = len(before)
        first = run_fix(tree)
        report.first_exit = first.returncode
        for count, code in re.findall(r"^\s+(\d+) × (\S+)", first.stdout, flags=re.MULTILINE):
            report.fixed[code] += int(count)
        if first.returncode not in (0, 1):
            report.failures.append(f"first run exited {first.returncode}: {first.stderr.strip()[-500:]}")
        after = snapshot(tree)
        changed = [path for path, data in after.items() if before.get(path) != data]
        report.changed = len(changed)
        for path in changed:
            _check_changed(report, path, before.get(path, b""), after[path])
        second = run_fix(tree)
        report.second_exit = second.returncode
        again = snapshot(tree)
        moved = [path for path, data in again.items() if after.get(path) != data]
        report.second_changed = len(moved)
        report.failures.extend(f"{path}: changed again by a second --fix run" for path in moved)
    report.seconds = time.perf_counter() - start
    return report


def _check_changed(report: Report, path: Path, original: bytes, fixed: bytes) -> None:
    try:
        cst.parse_module(fixed)
    except cst.ParserSyntaxError as error:
        report.not_parsing += 1
        report.failures.append(f"{path}: the fixed file does not parse: {error.message}")
        return
    try:
        compile(fixed, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        report.not_compiling += 1
        report.failures.append(f"{path}: the fixed file does not compile: {error}")
        return
    old, new = stacked_pairs(original), stacked_pairs(fixed)
    if old is None or new is None:
        report.not_analysed += 1
        return
    report.stacks_before.update(old)
    report.stacks_after.update(new)
    for kind in STACKS:
        if new[kind] > old[kind]:
            report.failures.append(f"{path}: {new[kind] - old[kind]} new {kind} in a row")


def render(folder: Path, report: Report) -> str:
    fixed = ", ".join(f"{code} {n}" for code, n in sorted(report.fixed.items())) or "none"
    lines = [
        f"fix_check {folder}",
        f"  .py files                                  {report.files}",
        (f"  changed by --fix --unsafe-fixes            {report.changed} "
         f"(exit {report.first_exit}, {report.seconds:.0f} s in all)"),
        f"  findings fixed                             {sum(report.fixed.values())} ({fixed})",
        f"  changed files not parsing                  {report.not_parsing}",
        f"  changed files not compiling                {report.not_compiling}",
        f"  changed by a second run                    {report.second_changed} (exit {report.second_exit})",
    ]
    for kind in STACKS:
        lines.append(f"  {kind + ' in a row, before -> after':42} {report.stacks_before[kind]} -> "
                     f"{report.stacks_after[kind]} (in the changed files)")
    lines.append(f"  {'changed files not analysable':42} {report.not_analysed}")
    lines.extend(f"  FAIL {failure}" for failure in report.failures)
    lines.append("  OK" if report.ok else "  FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    ok = True
    for folder in args.folders:
        report = check_tree(folder)
        print(render(folder, report), flush=True)
        ok = ok and report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
