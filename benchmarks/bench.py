"""bnlint's speed and memory, measured against Ruff in the same run.

    python benchmarks/bench.py [CORPUS] [--runs 3] [--jobs N] [--scaling] [--markdown] [--no-examples]

CORPUS defaults to $BNLINT_CORPUS; the repository's own ``examples/`` is
measured too (alone when no corpus is named; not at all with ``--no-examples``). Build a corpus with
``bash ../shared/corpus/build.sh DIR``.

Why these figures. Ruff is the linter users compare us with, so speed is stated
as a ratio to ``ruff check --select ALL --no-cache`` on the same tree, measured
in the same run: a ratio survives a slower or busier machine where seconds do
not. Every run is the real command line in a fresh process (start-up, imports
and the process pool are counted, as a user pays them), and bnlint and Ruff runs
alternate, so a burst of load from elsewhere hits both alike. Each figure is the
median of ``--runs`` runs; the note gives the spread.

- bnlint cold, 1 job: ``--no-cache -j 1``, the cost of the analysis itself;
- bnlint cold, all cores: ``--no-cache -j <cores>``, what the pool buys;
- bnlint warm: ``--cache-dir`` of a folder filled by one untimed run, then
  timed runs over the unchanged tree (every file answered from the cache);
- bnlint start-up: the cold 1-job command on an empty folder, the fixed cost
  (imports) that dominates the ratio on a small tree;
- LibCST parse alone: ``libcst.parse_module`` over the files that pass the
  prefilter, in one fresh process: the floor under a cold 1-job run, since
  the design wants the analysis within a small factor of the bare parse.

Memory: bnlint with ``-j N`` is a process pool, and ``getrusage`` reports only
the largest single child, so a sampler thread reads ``/proc`` every 20 ms and
sums the resident set of the command's process and all its descendants (the
peak of that sum is "tree"); "main" is the main process's own high-water mark
(``VmHWM``). Workers are forked, so pages they still share with the parent are
counted once per process: the tree figure is an upper bound. Without ``/proc``
(not Linux) no memory is shown.

``--scaling`` copies the corpus (or ``examples/``) 1, 2 and 4 times into a
temporary folder (real copies, so no link or dedup special case applies), runs
the cold all-cores command on each and reports how time and peak tree memory
grow: a linear tool doubles its time and keeps its memory flat.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.api import could_fire, select_rules
from bnlint.config import Settings
from bnlint.discovery import discover
from bnlint.workers import MIN_FILES_FOR_POOL

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SAMPLE_SECONDS = 0.02
SCALES = (1, 2, 4)
PARSE_ALONE = """\
import sys
import libcst
for path in open(sys.argv[1], encoding="utf-8").read().splitlines():
    try:
        libcst.parse_module(open(path, "rb").read())
    except Exception:
        pass
"""


# --- one measured run --------------------------------------------------------

@dataclass
class Sample:
    """One run of one command: wall seconds, exit code, peak memory in bytes (None: not measured)."""

    seconds: float
    code: int
    main_peak: int | None
    tree_peak: int | None


def _process_table() -> dict[int, tuple[int, int]]:
    """Every process on the machine: pid -> (parent pid, resident bytes), from ``/proc/<pid>/stat``."""
    page = os.sysconf("SC_PAGE_SIZE")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # it ended between the listing and the read
            continue
        fields = text[text.rindex(b")") + 2:].split()  # the command name may hold spaces
        table[int(entry.name)] = (int(fields[1]), int(fields[21]) * page)
    return table


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, now."""
    table = _process_table()
    children = defaultdict(list)
    for pid, (parent, _) in table.items():
        children[parent].append(pid)
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += table.get(pid, (0, 0))[1]
        pending.extend(children[pid])
    return total


def high_water_mark(pid: int) -> int | None:
    """The process's own peak resident bytes so far (``VmHWM``), or None once it has ended."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@dataclass
class MemorySampler:
    """Samples a process tree's memory in a thread, so the wall clock of the run is not delayed by it."""

    pid: int
    main_peak: int = 0
    tree_peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            self.tree_peak = max(self.tree_peak, tree_rss(self.pid))
            self.main_peak = max(self.main_peak, high_water_mark(self.pid) or 0)
            self._stop.wait(SAMPLE_SECONDS)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(command: list[str], ok_codes: tuple[int, ...] = (0, 1)) -> Sample:
    """Run ``command`` once in a fresh process; exit with its error output when it fails."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        sampler = MemorySampler(process.pid) if Path("/proc").is_dir() else None
        if sampler:
            sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - start
        if sampler:
            sampler.stop()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    # A Python crash exits 1 too, like a run with findings: its traceback tells them apart.
    if code not in ok_codes or "Traceback (most recent call last)" in stderr:
        sys.exit(f"{' '.join(command)} failed ({code}):\n{stderr}")
    if sampler is None:
        return Sample(seconds, code, None, None)
    # The tree held at least the main process's peak, even when no sample caught it.
    return Sample(seconds, code, sampler.main_peak or None, max(sampler.tree_peak, sampler.main_peak) or None)


# --- the commands ------------------------------------------------------------

def bnlint_command(paths: list[Path], *flags: str) -> list[str]:
    """The command a user types, from this interpreter's environment."""
    script = Path(sys.executable).parent / "bnlint"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "bnlint"]
    return [*program, "--isolated", "--select", "ALL", *flags, *map(str, paths)]


def find_ruff() -> str | None:
    """The project's Ruff (its virtual environment), else the one on PATH."""
    for candidate in (ROOT / ".venv" / "bin" / "ruff", Path(sys.executable).parent / "ruff"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("ruff")


def ruff_command(ruff: str, paths: list[Path]) -> list[str]:
    return [ruff, "check", "--select", "ALL", "--no-cache", "--isolated", "--exit-zero", "--quiet", *map(str, paths)]


def parse_alone_command(file_list: Path) -> list[str]:
    return [sys.executable, "-c", PARSE_ALONE, str(file_list)]


# --- a tree's figures --------------------------------------------------------

@dataclass
class TreeFacts:
    path: Path
    python_files: int
    other_files: int  # stubs and notebooks, which bnlint reads too
    prefiltered: list[Path]


def tree_facts(path: Path) -> TreeFacts:
    """What bnlint will read under ``path``, and which files pass its prefilter with every rule on."""
    rules = select_rules(Settings(select=["ALL"]))
    files = [p for p in discover([str(path)]) if p.is_file()]
    prefiltered = [p for p in files if could_fire(str(p), p.read_bytes(), rules)]
    python = sum(p.suffix == ".py" for p in files)
    return TreeFacts(path, python, len(files) - python, prefiltered)


@dataclass
class Row:
    name: str
    samples: list[Sample]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    def peak(self, which: str) -> int | None:
        values = [getattr(s, which) for s in self.samples if getattr(s, which) is not None]
        return max(values) if values else None


@dataclass
class Contender:
    name: str
    command: list[str]
    note: str
    ok_codes: tuple[int, ...] = (0, 1)
    samples: list[Sample] = field(default_factory=list)


def measure_tree(facts: TreeFacts, runs: int, jobs: int, ruff: str | None, scratch: Path) -> list[Row]:
    """The rows for one tree: each contender ``runs`` times, each run followed by a Ruff run."""
    paths = [facts.path]
    work = Path(tempfile.mkdtemp(dir=scratch))
    cache, file_list = work / "cache", work / "prefiltered.txt"
    file_list.write_text("".join(f"{p}\n" for p in facts.prefiltered), encoding="utf-8")
    empty = work / "empty"
    empty.mkdir()
    pool = "" if len(facts.prefiltered) >= MIN_FILES_FOR_POOL else \
        f"under {MIN_FILES_FOR_POOL} files to parse: bnlint starts no pool"
    contenders = [Contender("bnlint cold, 1 job", bnlint_command(paths, "--no-cache", "-j", "1"), "")]
    if jobs > 1:
        contenders.append(Contender(f"bnlint cold, {jobs} jobs", bnlint_command(paths, "--no-cache", "-j", str(jobs)),
                                    pool))
    warm = bnlint_command(paths, "--cache-dir", str(cache), "-j", str(jobs))
    contenders.append(Contender(f"bnlint warm, {jobs} jobs", warm, "cache filled by one untimed run"))
    contenders.append(Contender("bnlint start-up", bnlint_command([empty], "--no-cache", "-j", "1"), "empty folder"))
    contenders.append(Contender("LibCST parse alone", parse_alone_command(file_list), "prefiltered files, 1 process",
                                ok_codes=(0,)))
    ruff_row = Row("ruff cold", [], "ruff check --select ALL --no-cache")
    measure(warm)  # fills the cache
    for _ in range(runs):
        for contender in contenders:
            contender.samples.append(measure(contender.command, contender.ok_codes))
            if ruff:
                ruff_row.samples.append(measure(ruff_command(ruff, paths), (0,)))
    rows = [Row(c.name, c.samples, c.note) for c in contenders]
    return [*rows, ruff_row] if ruff else rows


def measure_scaling(facts: TreeFacts, runs: int, jobs: int, scratch: Path) -> list[Row]:
    """Cold all-cores runs over the tree copied 1, 2 and 4 times (real copies, in ``scratch``)."""
    files = [p for p in discover([str(facts.path)]) if p.is_file()]
    rows = []
    for copies in SCALES:
        folder = scratch / f"scale{copies}"
        for index in range(1, copies + 1):
            for path in files:
                target = folder / f"copy{index}" / path.relative_to(facts.path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        command = bnlint_command([folder], "--no-cache", "-j", str(jobs))
        rows.append(Row(f"{copies}x ({copies * len(files)} files)", [measure(command) for _ in range(runs)]))
        shutil.rmtree(folder)
    return rows


# --- output ------------------------------------------------------------------

def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"  # Ruff's runs on a small tree take hundredths


def _spread(row: Row) -> str:
    times = sorted(s.seconds for s in row.samples)
    codes = sorted({s.code for s in row.samples})
    runs = f"{len(times)} run" + ("s" if len(times) > 1 else "")
    return f"{runs}, {_seconds(times[0])}-{_seconds(times[-1])} s, exit {'/'.join(map(str, codes))}"


def table(header: list[str], lines: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out) + "\n"
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]
    def render(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) if i in (0, len(cells) - 1) else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join(render(line) for line in [header, *lines]) + "\n"


def speed_table(rows: list[Row], markdown: bool) -> str:
    ruff = next((row.median for row in rows if row.name == "ruff cold"), None)
    lines = []
    for row in rows:
        ratio = f"{row.median / ruff:.1f}x" if ruff else "-"
        memory = f"{_mib(row.peak('main_peak'))} / {_mib(row.peak('tree_peak'))}"
        note = "; ".join(part for part in (row.note, _spread(row)) if part)
        lines.append([row.name, _seconds(row.median), ratio, memory, note])
    return table(["run", "median wall s", "ratio to ruff cold", "peak RSS MiB", "note"], lines, markdown)


def scaling_table(rows: list[Row], markdown: bool) -> str:
    base_time, base_rss = rows[0].median, rows[0].peak("tree_peak")
    lines = []
    for copies, row in zip(SCALES, rows):
        rss = row.peak("tree_peak")
        rss_ratio = f"{rss / base_rss:.2f}" if rss and base_rss else "-"
        lines.append([row.name, _seconds(row.median), f"{row.median / (copies * base_time):.2f}",
                      _mib(rss), rss_ratio, _spread(row)])
    header = ["size", "median wall s", "time / (size x time 1x)", "peak tree RSS MiB", "RSS / RSS 1x", "note"]
    return table(header, lines, markdown)


def describe(facts: TreeFacts, jobs: int, ruff: str | None) -> str:
    others = f" (and {facts.other_files} stubs or notebooks)" if facts.other_files else ""
    lines = [f"corpus: {facts.path}",
             f"{facts.python_files} .py files{others}; {len(facts.prefiltered)} pass bnlint's prefilter (--select ALL)",
             f"{os.cpu_count()} CPU cores; all-cores runs use -j {jobs}",
             "peak RSS: main process / whole process tree, the largest over the runs"]
    if not ruff:
        lines.append("ruff is missing (not in .venv/bin nor on PATH): bnlint figures only, no ratios")
    return "\n".join(lines) + "\n"


# --- main --------------------------------------------------------------------

def trees(corpus: str | None, with_examples: bool) -> list[Path]:
    chosen = [Path(corpus).resolve()] if corpus else []
    if chosen and not chosen[0].is_dir():
        sys.exit(f"no corpus at {corpus}: build one with 'bash ../shared/corpus/build.sh {corpus}'")
    if with_examples or not chosen:
        chosen += [EXAMPLES] if EXAMPLES not in chosen else []
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=os.environ.get("BNLINT_CORPUS"),
                        help="folder to measure besides examples/ (default: $BNLINT_CORPUS)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each command (default: 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="jobs of the all-cores runs")
    parser.add_argument("--scaling", action="store_true", help="also time the corpus copied 1, 2 and 4 times")
    parser.add_argument("--no-examples", action="store_true", help="measure the corpus alone, not examples/ too")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    options = parser.parse_args(argv)
    if options.runs < 1 or options.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")
    ruff = find_ruff()
    scratch = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
    try:
        measured = [tree_facts(path) for path in trees(options.corpus, not options.no_examples)]
        for facts in measured:
            print(describe(facts, options.jobs, ruff), flush=True)
            rows = measure_tree(facts, options.runs, options.jobs, ruff, scratch)
            print(speed_table(rows, options.markdown), flush=True)
        if options.scaling:
            facts = measured[0]
            print(f"scaling: {facts.path} copied 1, 2 and 4 times, bnlint cold with -j {options.jobs}")
            print(scaling_table(measure_scaling(facts, options.runs, options.jobs, scratch), options.markdown))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
