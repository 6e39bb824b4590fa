"""Wall time of one ``nalm`` command: this code against an earlier revision, in the same run.

Each repeat runs the command with this code and with ``--baseline``'s (its ``src`` extracted with
``git archive``), one after the other, each into a fresh results store, one thread each; it
prints the median time of each and the median and range of the per-repeat ratios. Whatever the
command does (start-up, planning, training, scoring, storing, reporting) is timed, so the same
command line compares any two revisions whose command lines agree.

    python -m benchmarks.command_speed -- run trask2018-translation --units lstm+nau --seeds 4 \\
        --iterations 500 --workers 1 --quiet
    python -m benchmarks.command_speed --baseline a4faf14 -- run madsen2020-static --units nalu \\
        --targets add --seeds 50 --iterations 2000 --workers 1 --quiet --config '{"fused": false}'
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.population_speed import baseline_source


def timed(argv: list[str], source: Path, store: Path) -> float:
    """Seconds of ``nalm ARGV --results STORE`` with the package at ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nalm.cli.main", *argv, "--results", str(store)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="HEAD", help="the git revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the nalm command, after --")
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    here = Path(__file__).resolve().parents[1] / "src"
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        sources = {"baseline": baseline_source(args.baseline, folder), "this code": here}
        for source in sources.values():  # kernels compiled and cached before anything is timed
            timed(argv, source, folder / f"warm-{time.monotonic_ns()}.sqlite")
        times: dict[str, list[float]] = {name: [] for name in sources}
        for repeat in range(args.repeats):
            for name, source in sources.items():
                times[name].append(timed(argv, source, folder / f"{repeat}-{time.monotonic_ns()}.sqlite"))
            print(f"repeat {repeat}: " + ", ".join(f"{name} {t[-1]:.2f} s" for name, t in times.items()), flush=True)
    ratios = [b / t for b, t in zip(times["baseline"], times["this code"])]
    print(f"nalm {' '.join(argv)}")
    print(f"baseline {args.baseline}: {statistics.median(times['baseline']):.2f} s; this code: "
          f"{statistics.median(times['this code']):.2f} s; speed {statistics.median(ratios):.2f}x the baseline "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()
