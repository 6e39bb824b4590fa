"""Where a population step's time goes, beside an estimate of each phase's floor on this CPU.

The phases of one step of ``nalm.train.train_population`` on the madsen2020 task (one
thread, batch 128, a fresh batch per member per step), for both paths:

* fused (the default): data (drawing each member's rows and operands,
  :func:`nalm.train.kernels.draw.draw_stream`), forward + backward (the rest of the compiled
  step), to parameters (autograd from the effective weights to the parameters), regularizer and
  checks, optimizer, projection;
* autograd (``fused=False``): data (:func:`nalm.train.kernels.draw.draw_batch`, inputs and
  targets), forward, backward, regularizer and checks, optimizer, projection.

Floors, measured here in the same run: data, the Philox kernel alone filling a batch in cache
as the kernels draw one (values per step / its rate); forward + backward, the step's
floating-point operations at this core's matmul rate (a large float32 ``torch.mm``); the
optimizer, its bytes at this core's copy bandwidth and its PyTorch operations at the cost of
one tiny operation. A floor is what the phase would take at that limit, not a promise: it
shows how far each phase is from it.

    python -m benchmarks.step_breakdown                      # NALU and NAU->NMU, 100 members
    python -m benchmarks.step_breakdown --models nac --members 1 100
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchmarks.population_speed import members_for
from nalm.philox import fill_rows
from nalm.train import PopulationData, PopulationOptimizer
from nalm.train.allocator import keep_freed_memory
from nalm.train.fused import FusedStep
from nalm.train.kernels.draw import draw_batch
from nalm.units import build_model, seed_members_

BATCH, INPUTS, HIDDEN = 128, 100, 2
WARMUP = 20


def measure_limits() -> dict[str, float]:
    """This core's Philox rate (values/s, in cache), float32 matmul rate (FLOP/s), copy bandwidth
    (bytes/s) and the time of one tiny PyTorch operation (s).

    Philox fills one batch as one long row, as the kernels draw a batch whose rows fill their
    Philox blocks (rows of 100 float32 values do): a row of 100 alone ends in a partial vector
    loop and is drawn about 1.6 times slower.
    """
    rows = np.empty((1, BATCH * INPUTS), dtype=np.float32)
    fill_rows(rows, 1, 2, 0, 0, 0, 0)
    start, repeats = time.perf_counter(), 200
    for step in range(repeats):
        fill_rows(rows, 1, 2, step, 0, 0, 0)
    philox = repeats * rows.size / (time.perf_counter() - start)
    a = torch.rand(1024, 1024)
    torch.mm(a, a)
    start = time.perf_counter()
    for _ in range(5):
        torch.mm(a, a)
    flops = 5 * 2 * 1024 ** 3 / (time.perf_counter() - start)
    big = np.ones(32 << 20, dtype=np.float32)
    copy = np.empty_like(big)
    np.copyto(copy, big)
    start = time.perf_counter()
    for _ in range(5):
        np.copyto(copy, big)
    bandwidth = 5 * 2 * big.nbytes / (time.perf_counter() - start)
    tiny = torch.ones(200)
    start = time.perf_counter()
    for _ in range(2000):
        tiny.add(tiny)
    op = (time.perf_counter() - start) / 2000
    return {"philox": philox, "flops": flops, "bandwidth": bandwidth, "op": op}


def flops_per_row(model: str) -> float:
    """Floating-point operations of one row's forward and backward pass (multiply-adds count 2;
    a log or exp about 20)."""
    per_layer = {  # (forward, backward) per input-output pair, and per input (logs)
        "nac": (2, 2, 0), "nau": (2, 2, 0), "nmu": (3, 6, 0), "nac-mul": (2, 2, 20), "nalu": (6, 6, 20),
    }
    units = model.split("/") if "/" in model else [model, model]
    total = 0.0
    for (n_in, n_out), unit in zip(((INPUTS, HIDDEN), (HIDDEN, 1)), units):
        forward, backward, per_input = per_layer[unit]
        total += (forward + backward) * n_in * n_out + per_input * n_in
    return total


def breakdown(model: str, members: int, steps: int, fused: bool) -> dict[str, float]:
    """Milliseconds per step of each phase (after warm-up steps)."""
    population = members_for(members)
    net = build_model(model, INPUTS, 1, hidden=HIDDEN, members=members)
    seed_members_(net, [m.seed for m in population])
    data = PopulationData(population, batch_size=BATCH, eval_samples=1, device=torch.device("cpu"),
                          dtype=torch.float32)
    optimizer = PopulationOptimizer(net.parameters(), "adam", 1e-3)
    step_ = FusedStep.of(net, data) if fused else None
    if fused and step_ is None:
        raise SystemExit(f"{model} has no fused step")
    streams = data.streams
    x = np.empty((members, BATCH, INPUTS), dtype=np.float32)
    operands = np.empty((members, BATCH, 2), dtype=np.float32)
    names = (["data", "forward + backward", "to parameters"] if fused else ["data", "forward", "backward"]) \
        + ["regularizer, checks", "optimizer", "projection"]
    totals = dict.fromkeys(names, 0.0)
    for step in range(WARMUP + steps):
        t = [time.perf_counter()]
        if fused:
            draw_batch(x, operands, streams.words(step), streams.row_blocks, streams.a_masks, streams.b_masks,
                       streams.spans, *streams.ranges)
            t.append(time.perf_counter())
            fit = step_.fit(step)
            t.append(time.perf_counter())  # the fit draws again: its drawing time is taken off below
            loss = fit + net.regularization(step)
            bool(torch.isfinite(loss).all())
            optimizer.zero_grad()
            t_reg = time.perf_counter()
            step_.backward(loss.sum())
            t.append(time.perf_counter())
        else:
            x_, y = data.train_batch(step)
            t.append(time.perf_counter())
            fit = ((net(x_) - y) ** 2).mean(dim=(1, 2))
            t.append(time.perf_counter())
            loss = fit + net.regularization(step)
            bool(torch.isfinite(loss).all())
            optimizer.zero_grad()
            t_reg = time.perf_counter()
            loss.sum().backward()
            t.append(time.perf_counter())
        regularizer = t_reg - t[2]
        optimizer.step()
        t.append(time.perf_counter())
        net.project_()
        t.append(time.perf_counter())
        if step < WARMUP:
            continue
        spans = [t[1] - t[0], t[2] - t[1], t[3] - t_reg, regularizer, t[4] - t[3], t[5] - t[4]]
        if fused:
            spans[1] -= spans[0]
        for name, span in zip(names, spans):
            totals[name] += span * 1e3 / steps
    return totals


def floors(model: str, members: int, fused: bool, limits: dict, params: int, ops: int) -> dict[str, str]:
    """Each phase's floor (ms per step) as text."""
    data = members * BATCH * INPUTS / limits["philox"] * 1e3
    compute = members * BATCH * flops_per_row(model) / limits["flops"] * 1e3
    optimizer_bytes = params * 4 * 7  # read p, g, m, v; write p, m, v
    optimizer = max(optimizer_bytes / limits["bandwidth"], ops * limits["op"]) * 1e3
    out = {"data": f"{data:.2f} (Philox alone)", "optimizer": f"{optimizer:.2f} ({ops} ops)"}
    if fused:
        out["forward + backward"] = f"{compute:.2f} (FLOPs)"
    else:
        batch_bytes = members * BATCH * INPUTS * 4
        out["forward"] = f"{max(compute / 2, batch_bytes / limits['bandwidth'] * 1e3):.2f} (FLOPs, batch read)"
        out["backward"] = f"{max(compute / 2, batch_bytes / limits['bandwidth'] * 1e3):.2f} (FLOPs, batch read)"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["nalu", "nau/nmu"])
    parser.add_argument("--members", nargs="+", type=int, default=[1, 100])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    limits = measure_limits()
    print(f"torch {torch.__version__}, 1 thread, madsen2020 task, batch {BATCH}, ms per step (after {WARMUP} "
          f"warm-up steps); this core: Philox {limits['philox'] / 1e9:.2f} G values/s, float32 matmul "
          f"{limits['flops'] / 1e9:.1f} GFLOP/s, copy {limits['bandwidth'] / 1e9:.1f} GB/s, "
          f"one tiny PyTorch op {limits['op'] * 1e6:.1f} µs")
    for model in args.models:
        for members in args.members:
            net = build_model(model, INPUTS, 1, hidden=HIDDEN, members=members)
            params = sum(p.numel() for p in net.parameters())
            ops = 14 + 2 * len(list(net.parameters()))  # the population Adam's operations
            for fused in (True, False):
                times = breakdown(model, members, args.steps, fused)
                floor = floors(model, members, fused, limits, params, ops)
                path = "fused" if fused else "autograd"
                print(f"\n{model}, {members} member(s), {path}: {sum(times.values()):.2f} ms per step")
                for name, ms in times.items():
                    print(f"  {name:20} {ms:7.2f}   floor {floor.get(name, '-')}")


if __name__ == "__main__":
    main()
