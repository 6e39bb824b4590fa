"""The product orders behind ``nalm.units.functional._BatchedLinear``: a population's x·Wᵀ as
(W·xᵀ)ᵀ, and its weight gradient as gᵀ·x rather than autograd's own xᵀ·g.

    python -m benchmarks.batched_linear                  # 100 members, batch 128, 100 -> 2
    python -m benchmarks.batched_linear --members 1000 --outputs 8
"""
from __future__ import annotations

import argparse
import time

import torch


def milliseconds(product, repeats: int = 200) -> float:
    product()
    start = time.perf_counter()
    for _ in range(repeats):
        product()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--outputs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = torch.rand(args.members, args.batch, args.inputs)
    w = torch.rand(args.members, args.outputs, args.inputs)
    g = torch.rand(args.members, args.batch, args.outputs)
    print(f"torch {torch.__version__}, 1 thread, float32, {args.members} members, x ({args.batch}, {args.inputs}), "
          f"{args.outputs} outputs; ms per product")
    print(f"  forward  x·Wᵀ       {milliseconds(lambda: torch.bmm(x, w.transpose(1, 2))):.3f}")
    print(f"  forward  (W·xᵀ)ᵀ    {milliseconds(lambda: torch.bmm(w, x.transpose(1, 2)).transpose(1, 2).contiguous()):.3f}")
    print(f"  gradient (xᵀ·g)ᵀ    {milliseconds(lambda: torch.bmm(x.transpose(1, 2), g).transpose(1, 2)):.3f}")
    print(f"  gradient gᵀ·x       {milliseconds(lambda: torch.bmm(g.transpose(1, 2), x)):.3f}")


if __name__ == "__main__":
    main()
