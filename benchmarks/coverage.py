"""How much of the BN in real code bnlint sees: BN construction sites that end up as a node of some layer graph.

A rule can only judge a BN layer that made it into a graph, so this is the
figure that says how much of a code base the rules cover. Over a folder:

- a *BN construction site* is a call, found by Python's own ``ast``, whose
  callee's last name is ``BatchNormalization``, ``SyncBatchNormalization``,
  ``BatchNormalizationV1``/``V2``, or TF1's layer function
  ``batch_normalization`` reached through a ``layers`` namespace
  (``tf.layers.batch_normalization``, ``tf.compat.v1.layers.batch_normalization``;
  not the op of that name in ``tf.nn``, the backend or ``keras.ops``, under
  whatever alias, which normalizes with given statistics and builds no layer);
- it is *covered* when a ``BatchNormalization`` node of some graph in
  ``bnlint graph --format json`` sits on the same line of the same file;
- of the covered sites, the share whose channel axis is known (at least one of
  its nodes has a non-null ``channel_axis``);
- ``unapplied``: sites in no graph that bnlint still saw as a BN layer built
  but never applied (only the rules about a layer's own arguments judge them).

``bnlint graph`` runs once over the whole folder (``-j``), not once per file.
Sites in files that ``ast`` cannot parse are counted apart. Usage::

    python benchmarks/coverage.py FOLDER [-j 2] [--missed N]
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LAYER_NAMES = frozenset({"BatchNormalization", "SyncBatchNormalization", "BatchNormalizationV1",
                         "BatchNormalizationV2"})
TF1_FUNCTION = "batch_normalization"
_SKIPPED_FOLDERS = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules"})


@dataclass
class Tally:
    files: int = 0
    sites: int = 0
    covered: int = 0
    axis_known: int = 0
    unapplied: int = 0  # sites in no graph whose BN is still a node of the file's ``unapplied`` list
    unparsable_sites: int = 0
    missed: list[str] = field(default_factory=list)


def callee_chain(call: ast.Call) -> list[str]:
    """``tf.compat.v1.layers.batch_normalization`` -> its dotted names; [] for a computed callee."""
    names: list[str] = []
    current = call.func
    while isinstance(current, ast.Attribute):
        names.append(current.attr)
        current = current.value
    if isinstance(current, ast.Name):
        names.append(current.id)
    elif not names:
        return []
    return names[::-1]


def is_bn_construction(call: ast.Call) -> bool:
    chain = callee_chain(call)
    if not chain:
        return False
    if chain[-1] in LAYER_NAMES:
        return True
    return chain[-1] == TF1_FUNCTION and "layers" in chain[:-1]


def bn_sites(path: Path) -> list[int] | None:
    """The lines of the BN construction calls in ``path``; None when ``ast`` cannot parse it."""
    data = path.read_bytes()
    if b"BatchNormalization" not in data and b"batch_normalization" not in data:
        return []  # every name counted contains one of these: no parse needed
    try:
        tree = ast.parse(data, filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and is_bn_construction(node))


def python_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIPPED_FOLDERS)
        found += [Path(folder, name) for name in sorted(files) if name.endswith(".py")]
    return found


def graph_nodes(root: Path, jobs: int) -> tuple[dict[Path, dict[int, bool]], dict[Path, set[int]], float]:
    """Per file (resolved): the line of every BN node of a graph and whether its channel axis is known,
    and the lines of the BN layers built but applied in no graph."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bnlint", "graph", str(root), "--format", "json", "--isolated",
                           "-j", str(jobs)], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 2) or not done.stdout.strip():
        sys.exit(f"bnlint graph failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    if done.returncode == 2:
        print(f"note: bnlint graph reported internal errors:\n{done.stderr.strip()}", file=sys.stderr)
    nodes: dict[Path, dict[int, bool]] = defaultdict(dict)
    unapplied: dict[Path, set[int]] = {}
    for entry in json.loads(done.stdout)["files"]:
        lines = nodes[Path(entry["path"]).resolve()]
        unapplied[Path(entry["path"]).resolve()] = {node["line"] for node in entry["unapplied"]}
        for graph in entry["graphs"]:
            for node in graph["nodes"]:
                if node["op"] == "BatchNormalization" and node["line"] is not None:
                    lines[node["line"]] = lines.get(node["line"], False) or node["channel_axis"] is not None
    return nodes, unapplied, elapsed


def measure(root: Path, jobs: int) -> tuple[dict[str, Tally], float]:
    nodes, unapplied, elapsed = graph_nodes(root, jobs)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for path in python_files(root):
        relative = path.relative_to(root)
        package = relative.parts[0] if len(relative.parts) > 1 else "."
        tally = tallies[package]
        tally.files += 1
        sites = bn_sites(path)
        if sites is None:
            tally.unparsable_sites += path.read_bytes().count(b"BatchNormalization")
            continue
        seen = nodes.get(path.resolve(), {})
        for line in sites:
            tally.sites += 1
            if line in seen:
                tally.covered += 1
                tally.axis_known += seen[line]
            else:
                tally.missed.append(f"{relative}:{line}")
                tally.unapplied += line in unapplied.get(path.resolve(), ())
    return dict(sorted(tallies.items())), elapsed


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def table(tallies: dict[str, Tally]) -> str:
    total = Tally()
    for tally in tallies.values():
        total.files += tally.files
        total.sites += tally.sites
        total.covered += tally.covered
        total.axis_known += tally.axis_known
        total.unparsable_sites += tally.unparsable_sites
        total.unapplied += tally.unapplied
    rows = [("folder", "files", "BN sites", "in a graph", "coverage", "axis known", "of covered", "unapplied")]
    for name, tally in [*tallies.items(), ("TOTAL", total)]:
        if tally.sites or name == "TOTAL":
            rows.append((name, str(tally.files), str(tally.sites), str(tally.covered),
                         _percent(tally.covered, tally.sites), str(tally.axis_known),
                         _percent(tally.axis_known, tally.covered), str(tally.unapplied)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, lines[1])
    if total.unparsable_sites:
        lines.append(f"(plus about {total.unparsable_sites} BatchNormalization mentions in files Python cannot parse)")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=2, help="processes for bnlint graph (default: 2)")
    parser.add_argument("--missed", type=int, default=0, metavar="N",
                        help="also list up to N sites per folder that are in no graph")
    options = parser.parse_args()
    root = options.folder.resolve()
    tallies, elapsed = measure(root, options.jobs)
    sys.stdout.write(table(tallies))
    print(f"bnlint graph over {root.name}: {elapsed:.1f} s with -j {options.jobs}")
    if options.missed:
        for name, tally in tallies.items():
            for site in tally.missed[:options.missed]:
                print(f"missed  {name}  {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
