"""Training speed against PyTorch's CPU thread count, measured in one run.

Trains the same model (one member, then a population of 100) for a fixed number of steps on
the madsen2020 task with 1 and with 2 threads, alternating the settings so that machine load
affects both alike, and prints steps per second and the ratio.

    python benchmarks/threads.py
"""
from __future__ import annotations

import argparse
import time

import torch

from benchmarks.population_speed import members_for
from nalm.train import TrainConfig, train_population


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.steps} steps, madsen2020 task, batch 128; model-steps per second")
    print(f"{'model':10} {'members':>7} {'1 thread':>10} {'2 threads':>10} {'1 vs 2':>7}")
    for model in args.models:
        for count in (1, 100):
            members = members_for(count)
            seconds = {1: 0.0, 2: 0.0}
            for _ in range(args.repeats):
                for threads in (1, 2):
                    config = TrainConfig(iterations=args.steps, eval_every=args.steps, eval_samples=128, threads=threads)
                    start = time.perf_counter()
                    train_population(model, members, config)
                    seconds[threads] += time.perf_counter() - start
            rate = {t: count * args.steps * args.repeats / s for t, s in seconds.items()}
            print(f"{model:10} {count:7d} {rate[1]:10.0f} {rate[2]:10.0f} {rate[1] / rate[2]:6.2f}x")


if __name__ == "__main__":
    main()
