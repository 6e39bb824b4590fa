"""Throughput of ``nalm run --workers N`` against one worker, on 100-seed populations.

Runs the madsen2020-static experiment for ``--seeds`` seeds of one model on one target through
:func:`nalm.runner.execute` into a fresh store, once per worker count and
``--repeats`` times, alternating (the machines we share are noisy, so every comparison is
within one run). Timed: everything after the plan (worker start-up, training, baselines,
scoring, storing). Prints member-steps per second per worker count and the median and range
of the per-repeat ratios to one worker.

Beside it, the machine's own ceiling for the same work (``bare``): the population's halves
trained by bare :func:`~nalm.train.train_population` calls in two processes at once, against
the whole population in one; no store, baselines, formulas or start-up. On a shared virtual
machine two busy cores can run slower each than one; this ratio says how much.

    python benchmarks/workers.py                         # NAU->NMU, 100 seeds, 1 and 2 workers
    python benchmarks/workers.py --model nalu --workers 1 2 4
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from nalm.experiments import EXPERIMENTS
from nalm.runner import execute, prepare
from nalm.results import ResultsStore
from nalm.train import train_population


def timed(plan, workers: int, folder: Path) -> float:
    with ResultsStore(folder / f"{workers}-{time.monotonic_ns()}.sqlite") as store:
        start = time.perf_counter()
        summary = execute(plan, store, workers=workers)
        elapsed = time.perf_counter() - start
    assert summary.trained == len(plan.runs)
    return elapsed


def _bare(args) -> float:
    model, members, config = args
    train_population(model, members[:1], config.replace(iterations=1))  # kernels loaded before timing
    start = time.perf_counter()
    train_population(model, members, config)
    return time.perf_counter() - start


def bare_ratio(plan) -> float:
    """Training alone: the whole population in one process, against its halves in two at once."""
    runs = plan.runs
    members, config = [run.member for run in runs], runs[0].config
    context = multiprocessing.get_context("forkserver")
    with context.Pool(1) as pool:
        one = pool.map(_bare, [(runs[0].model, members, config)])[0]
    half = len(members) // 2
    with context.Pool(2) as pool:
        two = pool.map(_bare, [(runs[0].model, members[:half], config), (runs[0].model, members[half:], config)])
    return one / max(two)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="nau/nmu")
    parser.add_argument("--target", default="mul")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=50_000)  # madsen2020-static's default
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    plan = prepare(EXPERIMENTS["madsen2020-static"], models=[args.model], targets=[args.target], seeds=args.seeds,
                   overrides={"iterations": args.iterations, "eval_every": 1000, "eval_samples": 1000})
    work = len(plan.runs) * args.iterations
    times: dict[int, list[float]] = {w: [] for w in args.workers}
    bare = []
    with tempfile.TemporaryDirectory() as folder:
        timed(plan, 1, Path(folder))  # compiles and caches the kernels before anything is timed
        for repeat in range(args.repeats):
            for workers in args.workers:
                times[workers].append(timed(plan, workers, Path(folder)))
                print(f"repeat {repeat}: {workers} workers {times[workers][-1]:.1f} s", flush=True)
            bare.append(bare_ratio(plan))
            print(f"repeat {repeat}: bare training, 2 processes against 1: {bare[-1]:.2f}x", flush=True)
    base = args.workers[0]
    print(f"\n{args.model} on {args.target}, {args.seeds} seeds x {args.iterations:,} steps, {args.repeats} repeats")
    for workers in args.workers:
        ratios = [b / t for b, t in zip(times[base], times[workers])]
        print(f"{workers} workers: {work / statistics.median(times[workers]):,.0f} member-steps/s, "
              f"{statistics.median(ratios):.2f}x {base} worker (range {min(ratios):.2f}-{max(ratios):.2f})")
    print(f"bare training, the machine's ceiling for 2 processes: {statistics.median(bare):.2f}x "
          f"(range {min(bare):.2f}-{max(bare):.2f})")


if __name__ == "__main__":
    main()
