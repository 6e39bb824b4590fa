"""Training speed: this code's fused step and autograd path against a pinned earlier engine.

Task: madsen2020 (input 100, a fresh batch of 128 per step, hidden size 2), one thread, data
generation and the step-0 and final evaluations included (on tiny evaluation sets, so training
dominates). For each model it times, in turn and ``--repeats`` times (the machines we share are
noisy, so every comparison is within one run):

* ``baseline``: the engine of commit ``--baseline`` (default 4176b2f, the last before the
  counter-based data and the fused step), extracted with ``git archive`` and run in a
  subprocess with the same settings;
* ``autograd``: this code with ``TrainConfig(fused=False)`` (PyTorch's autograd, data drawn
  by the compiled kernel);
* ``fused``: this code's default, the fused CPU step.

Each is timed for a population of ``--members`` (each its own seed) and, as the sequential
path, for ``--sequential-members`` of the same members trained one after another. It prints
median model-steps per second and the median and range of the per-repeat ratios to the baseline.

    python benchmarks/population_speed.py                  # NALU and NAU->NMU, 100 members
    python benchmarks/population_speed.py --targets-per-seed 6   # 17 seeds x 6 targets
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from nalm.tasks import TARGETS, presets
from nalm.train import Member, TrainConfig, train_population

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "4176b2f"

# Run in a subprocess against the baseline's source: the same members and settings as below.
_BASELINE_SCRIPT = """
import json, sys, time, torch
from nalm.tasks import TARGETS, presets
from nalm.train import Member, TrainConfig, train_population
model, count, per_seed, sequential, steps = json.loads(sys.argv[1])
torch.set_num_threads(1)
targets, task = list(TARGETS), presets.madsen2020()
members = [Member(i // per_seed, targets[i % len(targets)], task) for i in range(count)]
config = TrainConfig(iterations=steps, eval_every=steps, eval_samples=128, threads=1)
train_population(model, members[:2], config.replace(iterations=5))
def rate(populations):
    start = time.perf_counter()
    for population in populations:
        train_population(model, population, config)
    return sum(map(len, populations)) * steps / (time.perf_counter() - start)
print(json.dumps([rate([[m] for m in members[:sequential]]), rate([members])]))
"""


def members_for(count: int, targets_per_seed: int = 1) -> list[Member]:
    """``count`` members cycling through the targets; each seed serves ``targets_per_seed``
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


def baseline_source(revision: str, into: Path) -> Path:
    """The ``src`` folder of ``revision``, extracted into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def baseline_rates(source: Path, model: str, args) -> tuple[float, float]:
    """(sequential, population) model-steps/s of the baseline engine, in a subprocess."""
    settings = json.dumps([model, args.members, args.targets_per_seed, args.sequential_members, args.steps])
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _BASELINE_SCRIPT, settings], env=env, check=True,
                         capture_output=True, text=True).stdout
    return tuple(json.loads(out.strip().splitlines()[-1]))


def summary(name: str, rates: list[float], baseline: list[float]) -> str:
    ratios = [r / b for r, b in zip(rates, baseline)]
    return (f"{name:>9} {statistics.median(rates):9.0f} st/s  "
            f"{statistics.median(ratios):5.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--targets-per-seed", type=int, default=1, choices=range(1, len(TARGETS) + 1))
    parser.add_argument("--steps", type=int, default=1000, help="training steps per model")
    parser.add_argument("--sequential-members", type=int, default=5,
                        help="members timed one after another (their rate stands for all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="the git revision to compare with")
    args = parser.parse_args()

    torch.set_num_threads(1)
    config = TrainConfig(iterations=args.steps, eval_every=args.steps, eval_samples=128, threads=1)
    members = members_for(args.members, args.targets_per_seed)
    seeds = len({m.seed for m in members})
    print(f"torch {torch.__version__}, 1 thread, {args.steps} steps, madsen2020 task, batch 128, "
          f"{len(members)} members = {seeds} seeds, {args.repeats} repeats, baseline {args.baseline}")
    with tempfile.TemporaryDirectory() as folder:
        source = baseline_source(args.baseline, Path(folder))
        for model in args.models:
            for fused in (False, True):  # compile and warm up
                train_population(model, members[:2], config.replace(iterations=5, fused=fused))
            runs = {"baseline": ([], []), "autograd": ([], []), "fused": ([], [])}
            for _ in range(args.repeats):
                for name, (sequential, population) in runs.items():
                    if name == "baseline":
                        s, p = baseline_rates(source, model, args)
                    else:
                        c = config.replace(fused=name == "fused")
                        s = rate(model, [[m] for m in members[:args.sequential_members]], c)
                        p = rate(model, [members], c)
                    sequential.append(s)
                    population.append(p)
            for index, kind in enumerate(("population", "sequential")):
                base = runs["baseline"][1 - index]
                print(f"{model} {kind} ({len(members) if kind == 'population' else 1} model(s) at once):")
                for name, rates in runs.items():
                    print("  " + summary(name, rates[1 - index], base))


if __name__ == "__main__":
    main()
