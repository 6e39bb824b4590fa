"""How fast ``nalm run --dry-run`` answers, and how close its estimate comes to the real run.

Small commands (the default): each, in a calibration cache of its own, is dry-run twice (cold:
nothing cached; warm: read from the cache), then run for real into a fresh store (``--quiet``),
then run once more, everything stored: that second run is what the command costs besides
training (start-up, planning, reading the store), and the difference is the training the
estimate is of. Prints per command the dry runs' wall times, the estimate (likely, and its
range: on one core, or on the workers the command names) and the training measured. With
``--baseline REV``, the dry run of that revision (its ``src`` extracted with ``git archive``)
too, its wall time and its estimate.

``--paper-scale``: the cold dry run of every experiment at paper scale, and with ``--baseline``
that revision's dry run of the ``--compare`` experiments beside this code's, in the same run.

The machines we share are noisy: compare within one run, and repeat.

    python -m benchmarks.dry_run
    python -m benchmarks.dry_run --baseline 0319a4e
    python -m benchmarks.dry_run --paper-scale --baseline 0319a4e --compare trask2018-translation
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.population_speed import baseline_source

COMMANDS = [
    "madsen2020-static --units nau nalu --targets add mul --seeds 4 --iterations 3000 --workers 1",
    "madsen2020-static --units nau --targets add sub mul --seeds 100 --iterations 2000 --workers 1",
    "mistry2022-single --units nmu npu --targets mul div --seeds 1 --iterations 2000 --workers 1",
    "blog-static --units nac nalu --targets add sub --seeds 3 --iterations 5000 --workers 2",
    "trask2018-translation --units lstm lstm+nau --seeds 2 --iterations 400 --workers 1",
    "trask2018-mnist --units nau lstm --targets sum --seeds 2 --iterations 100 --workers 1",
]
EXPERIMENTS = ["blog-static", "trask2018-identity", "trask2018-static", "trask2018-recurrent", "madsen2020-static",
               "mistry2022-single", "trask2018-mnist", "trask2018-translation", "trask2018-program"]
UNITS = {"h": 3600, "min": 60, "s": 1}


def seconds_of(text: str) -> float:
    """The seconds of a duration as ``nalm`` prints it: ``3 h 12 min``, ``5 min 3 s``, ``4.2 s``."""
    return sum(float(number.replace(",", "")) * UNITS[unit]
               for number, unit in re.findall(r"([\d.,]+) (h|min|s)\b", text))


def estimated(out: str) -> tuple[float, float, float]:
    """(likely, low, high) of the dry run's last estimate: on its workers where it names them."""
    line = next(line for line in out.splitlines() if line.startswith("estimated: "))
    part = line.split(" on one core")[-1] if " workers " in line else line.split(" on one core")[0]
    likely = seconds_of(part.split("(")[0])
    spans = re.findall(r"\(([^)]*) to ([^)]*)\)", part)
    low, high = (seconds_of(spans[0][0]), seconds_of(spans[0][1])) if spans else (likely, likely)
    return likely, low, high


def nalm(argv: list[str], source: Path, env: dict) -> tuple[float, str]:
    """Wall seconds and standard output of ``nalm ARGV`` with the package at ``source``."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "nalm.cli.main", *argv], env={**env, "PYTHONPATH": str(source)},
                         check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, out


def small(args, here: Path, baseline: Path | None, folder: Path) -> None:
    for number, command in enumerate(args.commands):
        argv = ["run", *command.split()]
        env = {**os.environ, "NALM_CACHE_DIR": str(folder / f"cache-{number}"), "OMP_NUM_THREADS": "1"}
        env.pop("NALM_RECALIBRATE", None)
        store = ["--results", str(folder / f"{number}.sqlite")]
        cold, out = nalm(argv + ["--dry-run"] + store, here, env)
        warm, out = nalm(argv + ["--dry-run"] + store, here, env)
        likely, low, high = estimated(out)
        old = ""
        if baseline is not None:
            old_wall, old_out = nalm(argv + ["--dry-run"] + store, baseline, env)
            old = f"; baseline dry run {old_wall:.1f} s, its estimate {estimated(old_out)[0]:.1f} s"
        run, _ = nalm(argv + ["--quiet"] + store, here, env)
        again, _ = nalm(argv + ["--quiet"] + store, here, env)
        actual = run - again
        print(f"nalm run {command}\n  dry run {cold:.1f} s cold, {warm:.1f} s warm; estimate {likely:.1f} s "
              f"({low:.1f} to {high:.1f}); trained in {actual:.1f} s ({run:.1f} s run - {again:.1f} s with all "
              f"stored): estimate / actual {likely / actual:.2f} ({low / actual:.2f} to {high / actual:.2f}){old}",
              flush=True)


def paper_scale(args, here: Path, baseline: Path | None, folder: Path) -> None:
    for experiment in args.experiments:
        env = {**os.environ, "NALM_CACHE_DIR": str(folder / f"cache-{experiment}"), "OMP_NUM_THREADS": "1"}
        env.pop("NALM_RECALIBRATE", None)
        argv = ["run", experiment, "--paper-scale", "--dry-run", "--results", str(folder / "none.sqlite")]
        wall, out = nalm(argv, here, env)
        line = f"{experiment}: dry run {wall:.1f} s cold, estimate {estimated(out)[0] / 3600:.1f} h"
        if baseline is not None and experiment in args.compare:
            old_wall, old_out = nalm(argv, baseline, env)
            line += (f"; baseline {old_wall:.1f} s, its estimate {estimated(old_out)[0] / 3600:.1f} h: "
                     f"{old_wall / wall:.1f}x faster")
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="a git revision whose dry run to time beside this code's")
    parser.add_argument("--paper-scale", action="store_true", help="the dry runs of every experiment at paper scale")
    parser.add_argument("--commands", nargs="+", default=COMMANDS, help="the small commands, after 'nalm run'")
    parser.add_argument("--experiments", nargs="+", default=EXPERIMENTS)
    parser.add_argument("--compare", nargs="+", default=["trask2018-translation"],
                        help="with --paper-scale --baseline: the experiments whose baseline dry run is timed")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1] / "src"
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        baseline = None
        if args.baseline:
            (folder / "baseline").mkdir()
            baseline = baseline_source(args.baseline, folder / "baseline")
        (paper_scale if args.paper_scale else small)(args, here, baseline, folder)


if __name__ == "__main__":
    main()
