"""Where a population step's time goes: data, forward, backward, optimizer, projection.

The phases of one step of ``nalm.train.engine.train_population`` (same data, model and
optimizer classes), timed separately on the madsen2020 task, 1 thread. It explains the ratio
that ``population_speed.py`` prints: a 100-member step spends most of its time drawing and
reading 100 fresh (128, 100) batches, which a model trained alone barely notices.

    python benchmarks/step_breakdown.py                      # NALU and NAU->NMU, 1 and 100 members
    python benchmarks/step_breakdown.py --models nac --members 1 100 400
"""
from __future__ import annotations

import argparse
import time

import torch

from benchmarks.population_speed import members_for
from nalm.train import PopulationData, PopulationOptimizer
from nalm.train.allocator import keep_freed_memory
from nalm.units import build_model, seed_members_

PHASES = ("data", "forward", "backward", "optimizer", "projection")


def breakdown(model: str, members: int, steps: int) -> dict[str, float]:
    """Milliseconds per step spent in each phase (after 20 warm-up steps)."""
    population = members_for(members)
    net = build_model(model, 100, 1, hidden=2, members=members)
    seed_members_(net, [m.seed for m in population])
    data = PopulationData(population, batch_size=128, eval_samples=1, device=torch.device("cpu"),
                          dtype=torch.float32)
    optimizer = PopulationOptimizer(net.parameters(), "adam", 1e-3)
    totals = dict.fromkeys(PHASES, 0.0)
    for step in range(20 + steps):
        t = [time.perf_counter()]
        x, y = data.train_batch()
        t.append(time.perf_counter())
        loss = ((net(x) - y) ** 2).mean(dim=(1, 2)) + net.regularization(step)
        bool(torch.isfinite(loss).all())
        t.append(time.perf_counter())
        optimizer.zero_grad()
        loss.sum().backward()
        t.append(time.perf_counter())
        optimizer.step()
        t.append(time.perf_counter())
        net.project_()
        t.append(time.perf_counter())
        if step >= 20:
            for phase, start, end in zip(PHASES, t, t[1:]):
                totals[phase] += (end - start) * 1e3 / steps
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--members", nargs="+", type=int, default=[1, 100])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    print(f"torch {torch.__version__}, 1 thread, madsen2020 task, batch 128; ms per step")
    print(f"{'model':10} {'members':>7} " + " ".join(f"{p:>10}" for p in PHASES) + f" {'total':>8}")
    for model in args.models:
        for members in args.members:
            times = breakdown(model, members, args.steps)
            print(f"{model:10} {members:7d} " + " ".join(f"{times[p]:10.2f}" for p in PHASES)
                  + f" {sum(times.values()):8.2f}")


if __name__ == "__main__":
    main()
