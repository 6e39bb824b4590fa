"""Training speed on a CUDA device: the Triton trainer and the autograd path against the fused CPU step.

Task: madsen2020 (input 100, a fresh batch of 128 per step, hidden size 2), float32, data
drawn on the device (Philox, the same numbers as on the CPU). For each model and population
size it trains ``--short`` and then ``--long`` steps and takes the rate from the difference,
so that initialization, the first evaluation and CUDA's start-up are excluded (evaluations at
the first and last step are in both). ``triton`` is the Triton trainer (``kernel: "triton"``, one
launch for the run's steps); ``autograd`` PyTorch's path on the device, with the milliseconds
per step and how many of them drawing the batches takes
(:meth:`nalm.train.data.PopulationData.train_batch`). The CPU figure is the fused step on one
thread with 100 members, measured the same way in the same run. A model the Triton trainer does
not train says so in one line.

    python benchmarks/gpu_speed.py                         # NAU->NMU and NALU, 600 to 10,000 members
    python benchmarks/gpu_speed.py --members 600 --long 2000 --paths triton
"""
from __future__ import annotations

import argparse
import time

import torch

from nalm.tasks import TARGETS, presets
from nalm.train import Member, TrainConfig, train_population
from nalm.train.data import PopulationData


def members_for(count: int) -> list[Member]:
    """``count`` members, each its own seed, cycling through the targets."""
    targets, task = list(TARGETS), presets.madsen2020()
    return [Member(i, targets[i % len(targets)], task) for i in range(count)]


def seconds(model: str, members: list[Member], config: TrainConfig) -> float:
    if config.device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train_population(model, members, config)
    if config.device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def rate(model: str, members: list[Member], config: TrainConfig, short: int, long: int) -> float:
    """Model-steps per second between a run of ``short`` and one of ``long`` steps."""
    runs = [seconds(model, members, config.replace(iterations=n, eval_every=n)) for n in (short, long)]
    return len(members) * (long - short) / (runs[1] - runs[0])


def data_ms(members: list[Member], repeats: int = 20) -> float:
    """Milliseconds to draw one step's batches of ``members`` on the device."""
    data = PopulationData(members, batch_size=128, eval_samples=128, device="cuda", dtype=torch.float32)
    data.train_batch(0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(1, repeats + 1):
        data.train_batch(step)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nau/nmu", "nalu"])
    parser.add_argument("--members", nargs="+", type=int, default=[600, 2000, 10_000])
    parser.add_argument("--paths", nargs="+", default=["triton", "autograd"], choices=["triton", "autograd"])
    parser.add_argument("--short", type=int, default=100)
    parser.add_argument("--long", type=int, default=500)
    parser.add_argument("--cpu-members", type=int, default=100)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_speed: this PyTorch sees no CUDA device")

    torch.set_num_threads(1)
    config = TrainConfig(iterations=args.long, eval_samples=128, threads=1)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, madsen2020 task, batch 128, float32, "
          f"rates from {args.long} - {args.short} steps")
    paths = {"triton": config.replace(device="cuda", kernel="triton"), "autograd": config.replace(device="cuda", kernel="autograd")}
    for model in args.models:
        train_population(model, members_for(2), config.replace(iterations=5))  # compile and warm up
        cpu = rate(model, members_for(args.cpu_members), config, args.short, args.long)
        print(f"{model}: CPU fused, 1 thread, {args.cpu_members} members: {cpu:10.0f} model-steps/s", flush=True)
        for path in args.paths:
            try:
                train_population(model, members_for(2), paths[path].replace(iterations=5))
            except ValueError as error:  # a network the Triton trainer does not train yet
                print(f"{model}: {path}: {error}", flush=True)
                continue
            for count in args.members:
                cuda = rate(model, members_for(count), paths[path], args.short, args.long)
                step_ms = count / cuda * 1e3
                drawing = "" if path == "triton" else \
                    f", of which drawing the batches {data_ms(members_for(count)):7.2f}"
                print(f"{model}: {path:8s} CUDA, {count:6d} members: {cuda:10.0f} model-steps/s "
                      f"({cuda / cpu:6.1f}x the CPU); {step_ms:7.2f} ms per step{drawing}", flush=True)


if __name__ == "__main__":
    main()
