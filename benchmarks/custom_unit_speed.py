"""What a unit that does not take ``members=`` costs: the same NAU-like unit trained as a
population three ways, in one run, on the madsen2020 task (input 100, batch 128, one layer,
one thread, autograd for all three so only the population path differs):

* ``members``: written as an ``ArithmeticUnit`` (parameters with a member dimension);
* ``vmap``: a plain ``nn.Module``, its members stacked and run under ``torch.func.vmap``;
* ``loop``: the same plain module where vmap cannot run it, one member after another.

Prints model-steps per second (median of ``--repeats``) and each path's ratio to ``members``.

    python -m benchmarks.custom_unit_speed                 # 100 members, 300 steps, 3 repeats
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from torch import nn

from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population
from nalm.units import ArithmeticUnit
from nalm.units.custom import register_unit
from nalm.units import functional as F


class MembersNAU(ArithmeticUnit):
    """y = x Wᵀ, W ~ U[-0.5, 0.5], clipped to [-1, 1]: written for populations."""

    def __init__(self, in_features, out_features, *, members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.weight = self.new_parameter(out_features, in_features)
        self.reset_parameters()

    def init_member(self, weight):
        nn.init.uniform_(weight, -0.5, 0.5)

    def forward(self, x):
        return F.linear(x, self.weight)

    def project_(self):
        with torch.no_grad():
            self.weight.clamp_(-1, 1)


class PlainNAU(nn.Module):
    """The same unit knowing nothing of populations."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-0.5, 0.5))

    def forward(self, x):
        return x @ self.weight.T

    def project_(self):
        self.weight.clamp_(-1, 1)


class LoopNAU(PlainNAU):
    """The plain unit with a value-dependent branch, which vmap refuses."""

    def forward(self, x):
        if float(self.weight.abs().max()) > 1e9:
            return x
        return x @ self.weight.T


def rate(model: str, members: int, steps: int) -> float:
    config = TrainConfig(iterations=steps, eval_every=steps, eval_samples=64, hidden=None, fused=False)
    population = [Member(seed, "add", presets.madsen2020()) for seed in range(members)]
    start = time.perf_counter()
    train_population(model, population, config)
    return members * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    paths = {"members": register_unit(MembersNAU), "vmap": register_unit(PlainNAU), "loop": register_unit(LoopNAU)}
    rates = {path: [] for path in paths}
    for _ in range(args.repeats):
        for path, model in paths.items():
            rates[path].append(rate(model, args.members, args.steps))
    base = statistics.median(rates["members"])
    print(f"{args.members} members, {args.steps} steps, median of {args.repeats}:")
    for path, values in rates.items():
        median = statistics.median(values)
        print(f"  {path:8s} {median:10,.0f} model-steps/s   {median / base:5.2f}× the members path")


if __name__ == "__main__":
    main()
