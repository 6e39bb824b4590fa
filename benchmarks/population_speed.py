"""Population engine vs. training the same models one after another, same code, 1 thread.

Task: madsen2020 (input 100, a fresh batch of 128 per step, hidden size 2). Members are
seeds × targets; "sequential" trains members alone (a population of one), "population"
trains all of them as one population. Both include data generation and the step-0 and
final evaluations (on tiny evaluation sets, so training dominates). The two are timed in
turn, ``--repeats`` times, because the machines we share are noisy: it prints model-steps
per second for both (medians) and the median and range of the per-repeat ratios.

    python benchmarks/population_speed.py                  # NALU and NAU->NMU, 100 members
    python benchmarks/population_speed.py --targets-per-seed 6   # 17 seeds x 6 targets
    python benchmarks/population_speed.py --glibc-defaults       # without nalm.train.allocator
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from nalm.tasks import TARGETS, presets
from nalm.train import Member, TrainConfig, train_population


def members_for(count: int, targets_per_seed: int = 1) -> list[Member]:
    """``count`` members cycling through the six targets; each seed serves ``targets_per_seed``
    consecutive members (and so one data stream)."""
    targets = list(TARGETS)
    task = presets.madsen2020()
    return [Member(i // targets_per_seed, targets[i % len(targets)], task) for i in range(count)]


def rate(model: str, populations: list[list[Member]], config: TrainConfig) -> float:
    """Model-steps per second of training ``populations`` one after another."""
    start = time.perf_counter()
    for members in populations:
        train_population(model, members, config)
    return sum(map(len, populations)) * config.iterations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--targets-per-seed", type=int, default=1, choices=range(1, len(TARGETS) + 1))
    parser.add_argument("--steps", type=int, default=200, help="training steps per model")
    parser.add_argument("--sequential-members", type=int, default=10,
                        help="members timed one after another (their rate stands for all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--glibc-defaults", action="store_true",
                        help="leave glibc's allocator thresholds alone (see nalm.train.allocator)")
    args = parser.parse_args()
    if args.glibc_defaults:
        os.environ["NALM_GLIBC_DEFAULTS"] = "1"

    torch.set_num_threads(args.threads)
    config = TrainConfig(iterations=args.steps, eval_every=args.steps, eval_samples=128, threads=args.threads)
    members = members_for(args.members, args.targets_per_seed)
    seeds = len({m.seed for m in members})
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps, madsen2020 task, batch 128, "
          f"{len(members)} members = {seeds} seeds, {args.repeats} repeats"
          + (", glibc allocator defaults" if args.glibc_defaults else ""))
    print(f"{'model':10} {'sequential':>14} {'population':>14} {'ratio (median, range)':>24}")
    for model in args.models:
        train_population(model, members[:2], config.replace(iterations=5))  # warm-up
        sequential, population = [], []
        for _ in range(args.repeats):
            sequential.append(rate(model, [[m] for m in members[:args.sequential_members]], config))
            population.append(rate(model, [members], config))
        ratios = [p / s for p, s in zip(population, sequential)]
        print(f"{model:10} {statistics.median(sequential):10.0f} st/s {statistics.median(population):10.0f} st/s "
              f"{statistics.median(ratios):9.1f}x ({min(ratios):.1f}-{max(ratios):.1f}x)")


if __name__ == "__main__":
    main()
