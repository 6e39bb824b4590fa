"""Population engine vs. training the same models one after another, same code, 1 thread.

Task: madsen2020 (input 100, a fresh batch of 128 per step, hidden size 2). Members are
seeds × targets; "sequential" trains members alone (a population of one), "population"
trains all of them as one population. Both include data generation and the step-0 and
final evaluations (on tiny evaluation sets, so training dominates). Prints model-steps per
second for both and their ratio.

    python benchmarks/population_speed.py                  # NALU and NAU->NMU, 100 members
    python benchmarks/population_speed.py --models nac --members 100 --steps 200
"""
from __future__ import annotations

import argparse
import time

import torch

from nalm.tasks import TARGETS, presets
from nalm.train import Member, TrainConfig, train_population


def members_for(count: int) -> list[Member]:
    """``count`` members cycling through the six targets, each seed with its own stream."""
    targets = list(TARGETS)
    task = presets.madsen2020()
    return [Member(i, targets[i % len(targets)], task) for i in range(count)]


def rate(model: str, members: list[Member], config: TrainConfig) -> float:
    """Model-steps per second of one population."""
    start = time.perf_counter()
    train_population(model, members, config)
    return len(members) * config.iterations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300, help="training steps per model")
    parser.add_argument("--sequential-members", type=int, default=10,
                        help="members timed one after another (their rate stands for all)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    config = TrainConfig(iterations=args.steps, eval_every=args.steps, eval_samples=128, threads=args.threads)
    members = members_for(args.members)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps, madsen2020 task, batch 128")
    print(f"{'model':10} {'members':>7} {'sequential':>14} {'population':>14} {'ratio':>7}")
    for model in args.models:
        train_population(model, members[:2], config.replace(iterations=5))  # warm-up
        start = time.perf_counter()
        for member in members[:args.sequential_members]:
            train_population(model, [member], config)
        sequential = args.sequential_members * args.steps / (time.perf_counter() - start)
        population = rate(model, members, config)
        print(f"{model:10} {len(members):7d} {sequential:10.0f} st/s {population:10.0f} st/s {population / sequential:6.1f}x")


if __name__ == "__main__":
    main()
