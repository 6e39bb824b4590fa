"""What ``nalm run madsen2020-static --paper-scale`` costs: member-steps per second of each of its
models on one core (100 members, the paper's evaluation of 10,000 + 10,000 samples every 1,000
steps, on add and on mul), and the core-hours of the whole table at that rate.

    python benchmarks/paper_scale.py                 # 2,000 steps per model and target
    python benchmarks/paper_scale.py --steps 10000
"""
from __future__ import annotations

import argparse
import time

from nalm.experiments import EXPERIMENTS
from nalm.train import Member, train_population


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()
    experiment = EXPERIMENTS["madsen2020-static"].at_paper_scale()
    iterations = experiment.train.iterations
    core_seconds = 0.0
    for model in experiment.models:
        rates = []
        for target in ("add", "mul"):
            config = experiment.config_for(model, target, {"iterations": args.steps})
            members = [Member(seed, target, experiment.workload.tasks[0]) for seed in range(args.members)]
            train_population(model, members[:1], config.replace(iterations=1))  # kernels loaded before timing
            start = time.perf_counter()
            train_population(model, members, config)
            rates.append(args.members * args.steps / (time.perf_counter() - start))
        rate = sum(rates) / len(rates)
        core_seconds += len(experiment.targets) * experiment.seeds * iterations / rate
        print(f"{model:12s} {rate:9,.0f} member-steps/s", flush=True)
    print(f"{experiment.name} --paper-scale: {len(experiment.models)} models x {len(experiment.targets)} targets x "
          f"{experiment.seeds} seeds x {iterations:,} steps = {core_seconds / 3600:,.0f} core-hours")


if __name__ == "__main__":
    main()
