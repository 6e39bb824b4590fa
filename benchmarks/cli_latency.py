"""How long ``nalm`` takes to answer: help, version, list, show, a refused name; this code against
an earlier revision in the same run.

Each repeat runs every command once with this code and (with ``--baseline``) once with the
baseline's (its ``src`` extracted with ``git archive``), one after the other, each in a fresh
interpreter; the first round warms the disk cache and writes bytecode, and is not counted. It
prints each command's median wall time and median CPU time (user + system: less disturbed than
wall time by other work on the machine), and the median and range of the per-repeat ratios
(baseline / this code). A command the baseline refuses (an option it lacks) is marked, not compared.

    python -m benchmarks.cli_latency
    python -m benchmarks.cli_latency --baseline 0319a4e --repeats 7
    python -m benchmarks.cli_latency --baseline 0319a4e -- show trask2018-mnist
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.population_speed import baseline_source

COMMANDS = (("--help",), ("run", "--help"), ("report", "--help"), ("show", "--help"), ("--version",), ("list",),
            ("show", "blog"), ("show", "madsen2020-static"))
"""What a user types and waits for (``show blog``: a task preset named as an experiment, refused)."""


def timed(argv: tuple[str, ...], source: Path, folder: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of ``nalm ARGV`` with the package at ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run([sys.executable, "-m", "nalm.cli.main", *argv], env=env, cwd=folder,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="a git revision to compare with (default: none, this code only)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="one nalm command, after -- (default: the usual set)")
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    commands = [tuple(argv)] if argv else list(COMMANDS)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sources = {"this code": Path(__file__).resolve().parents[1] / "src"}
        if args.baseline:
            (folder / "baseline").mkdir()
            sources["baseline"] = baseline_source(args.baseline, folder / "baseline")
        times = {(name, command): [] for name in sources for command in commands}
        for repeat in range(args.repeats + 1):
            for command in commands:
                for name, source in sources.items():
                    measured = timed(command, source, folder)
                    if repeat:
                        times[name, command].append(measured)
    print(f"median of {args.repeats} repeats, wall (CPU) seconds" + (f"; ratio: baseline {args.baseline} / this code"
                                                                    if args.baseline else ""))
    for command in commands:
        line = f"nalm {' '.join(command):<26}"
        for name in sources:
            walls, cpus, codes = zip(*times[name, command])
            line += f"  {name}: {statistics.median(walls):5.2f} s ({statistics.median(cpus):4.2f} s) exit {codes[0]}"
        if args.baseline:
            ours, theirs = times["this code", command], times["baseline", command]
            if theirs[0][2] != ours[0][2]:
                line += "  (not compared: the exit codes differ)"
            else:
                walls = [b[0] / t[0] for b, t in zip(theirs, ours)]
                cpus = [b[1] / t[1] for b, t in zip(theirs, ours)]
                line += (f"  wall {statistics.median(walls):4.1f}x ({min(walls):.1f}-{max(walls):.1f}x), "
                         f"CPU {statistics.median(cpus):4.1f}x")
        print(line)


if __name__ == "__main__":
    main()
