"""The figures on the docs site's experiment pages: each experiment run at its default scale (or
at the reduced scale in ``REDUCED``, where the default takes much longer than five minutes on two
cores) into a temporary store, and its figures drawn by nalm's own plotting
(:meth:`nalm.experiments.spec.Experiment.figures`, what ``nalm plot`` draws), as PNG at ``DPI``
with a palette of ``COLORS``, into ``docs/images/experiments/<name>/`` with ``figures.json``:
the command, the nalm commit (the last to change ``src``) and the wall time that made them.
The site itself trains nothing: ``docs/experiment_pages.py`` shows what this script left.

    PYTHONPATH=src python docs/experiment_figures.py                       # every registered experiment
    PYTHONPATH=src python docs/experiment_figures.py madsen2020-static     # some of them
    PYTHONPATH=src python docs/experiment_figures.py --missing             # those without figures yet

An experiment's earlier figures are replaced only once its run has finished and its figures are
drawn.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiment_pages import IMAGES, RECORD, read_record

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DPI = 80  # the site's figures: readable at page width
COLORS = 256  # a palette of this many colors: a third of the bytes, no difference a reader sees in a plot

REDUCED = {
    "madsen2020-static": (["--seeds", "5", "--iterations", "10000"],
                          "10 seeds × 5e4 iterations take about 16 min on 2 cores (`--dry-run`); 5 seeds × 1e4 "
                          "iterations here, over which the NMU's regularizer ramps as at 5e4 (20% to 40% of the "
                          "run) while the NAU's (5e3 to 5e4 steps) does not finish"),
    "mistry2022-single": (["--seeds", "2", "--iterations", "2000"],
                          "25 seeds × 5e4 iterations take about 5 h on 2 cores (`--dry-run`); 2 seeds × 2,000 "
                          "iterations here, which end before most units' regularizers turn on (`nalm run` warns "
                          "which)"),
}
"""Experiments drawn at a reduced scale: their ``nalm run`` options, and why."""


def folder(name: str) -> Path:
    return IMAGES / name


def commit() -> str:
    """The last commit that changed nalm's code (``src``), with ``+changes`` where this checkout's
    ``src`` differs from it: the code that trained and drew the figures."""
    last = subprocess.run(["git", "log", "-1", "--format=%h", "--abbrev=10", "--", "src"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
    return last + ("+changes" if dirty else "")


def draw(name: str, store: Path) -> dict[str, object]:
    """``name``'s figures from the runs in ``store``, by file name, as ``nalm plot`` draws them."""
    from nalm.experiments import get_experiment
    from nalm.report.selection import select_stored
    from nalm.results import ResultsStore

    experiment = get_experiment(name)
    with ResultsStore(str(store), readonly=True) as results:
        runs = select_stored(results, name).runs
    if not runs:
        raise RuntimeError(f"{name}: the run stored nothing")
    return {f"{name}-{figure}.png": drawn for figure, drawn in experiment.figures(runs).items()}


def compact(png: bytes) -> bytes:
    """``png`` (opaque, as matplotlib draws nalm's figures) with a palette of ``COLORS`` colors."""
    from PIL import Image  # matplotlib's own dependency

    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(COLORS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def make(name: str) -> dict:
    """Run ``name``, draw its figures and replace those in its folder; the record written.

    The figures and the record are made in a temporary folder first, so that a run or a drawing
    that fails (or a SIGTERM) leaves the folder's earlier figures as they were.
    """
    import matplotlib.pyplot as plt

    options, reason = REDUCED.get(name, ([], None))
    with tempfile.TemporaryDirectory(prefix=f"nalm-{name}-") as tmp:
        store = Path(tmp) / "nalm.sqlite"
        command = [sys.executable, "-m", "nalm.cli.main", "run", name, *options, "--quiet", "--results", str(store)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
        made_by = commit()  # the code that runs, not what the checkout holds once it has finished
        start = time.perf_counter()
        run(command, env)
        wall = time.perf_counter() - start
        figures = draw(name, store)
        staged = Path(tmp) / name
        staged.mkdir()
        for file, figure in figures.items():
            png = io.BytesIO()
            figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
            plt.close(figure)
            (staged / file).write_bytes(compact(png.getvalue()))
        record = {"experiment": name, "command": " ".join(["nalm", "run", name, *options]),
                  "plot": f"nalm plot {name}", "reduced": reason, "commit": made_by,
                  "wall_s": round(wall), "cores": os.cpu_count(), "figures": list(figures)}
        (staged / RECORD).write_text(json.dumps(record, indent=1) + "\n")
        target = folder(name)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(staged, target)
    return record


def run(command: list[str], env: dict) -> None:
    """Run ``command`` to its end; if this process is stopped first (an error, Ctrl-C, a SIGTERM:
    see :func:`main`), stop it too, so that it does not train on into a folder removed under it."""
    child = subprocess.Popen(command, env=env)
    try:
        code = child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait()
    if code:
        raise subprocess.CalledProcessError(code, command)


def stop(signum, frame):
    """SIGTERM as an exit (128 + 15, a shell's code for it), so that ``finally`` blocks stop the
    training and remove the temporary store as they do on an error."""
    raise SystemExit(128 + signal.SIGTERM)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", help="experiments to draw (default: every registered one)")
    parser.add_argument("--missing", action="store_true", help="only experiments without figures yet")
    args = parser.parse_args(argv)
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from nalm.experiments import EXPERIMENTS

    names = args.experiments or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiments: {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}")
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        for name in names:
            if args.missing and read_record(name, IMAGES):
                continue
            record = make(name)
            print(f"{name}: {len(record['figures'])} figures in {record['wall_s']} s ({record['command']})", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
