"""Static tasks whose inputs are points of one Sobol sequence rather than random draws.

Heim, Pevný & Šmídl (2020) train their 100-input arithmetic task on the points of a Sobol
sequence, taken in order, 128 a step, and test on its points from the third on
(nmheim/NeuralPowerUnits ``src/arithmetic_dataset.jl:39-68``, ``scripts/arithmetic/revalidate.jl:22-40``).
The sequence is Joe & Kuo's (direction numbers ``new-joe-kuo-6.21201``), as Julia's Sobol.jl
and PyTorch's :class:`torch.quasirandom.SobolEngine` give it; point i is computed directly from i
(Gray-code order), so a step's batch, like any other task's, depends only on where it sits.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..philox import Draws
from ..streams import TRAIN
from .static import StaticTask

BITS = 30
"""Bits of each direction number, as in PyTorch's SobolEngine (``MAXBIT``)."""


@functools.lru_cache(maxsize=8)
def direction_numbers(dimensions: int) -> np.ndarray:
    """(BITS, dimensions) direction numbers of the sequence, row b for bit b, as integers scaled by 2^BITS."""
    import torch  # here: reading a task's fields needs no PyTorch

    return np.ascontiguousarray(torch.quasirandom.SobolEngine(dimensions).sobolstate.numpy().T.astype(np.int32))


@functools.lru_cache(maxsize=4)
def sobol_points(first: int, n: int, dimensions: int) -> np.ndarray:
    """Points ``first`` to ``first + n - 1`` of the unscrambled Sobol sequence, (n, dimensions)
    in [0, 1); point 0 is the origin. Read only, and kept for the next call: every seed of a
    population takes the same points at a step, which are computed once.

    >>> sobol_points(0, 4, 2).tolist()
    [[0.0, 0.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]]
    """
    if not 0 <= first or not first + n <= 2 ** BITS:
        raise ValueError(f"Sobol points {first} to {first + n - 1} lie outside the sequence's 2^{BITS} points")
    directions = direction_numbers(dimensions)
    gray = first ^ (first >> 1)  # point `first`: the direction numbers of its Gray code's bits, XORed
    start = np.bitwise_xor.reduce(directions[[bit for bit in range(BITS) if gray >> bit & 1]], axis=0,
                                  initial=0)
    # then point i is point i - 1 XOR the direction number of i's lowest set bit (Gray codes differ there)
    index = np.arange(first + 1, first + n, dtype=np.int64)
    lowest = np.log2(index & -index).astype(np.int64)  # exact: a power of two below 2^30
    points = np.bitwise_xor.accumulate(np.vstack([start, directions[lowest]]), axis=0) * 2.0 ** -BITS
    points.flags.writeable = False
    return points


@dataclass(frozen=True)
class SobolTask(StaticTask):
    """A :class:`~nalm.tasks.StaticTask` whose inputs are Sobol points mapped to its ranges.

    The batch of step t is points ``1 + t·n`` to ``(t + 1)·n`` of the sequence (Sobol.jl's
    ``next!`` starts at point 1), u ↦ low + u·(high − low) on the interpolation range, for every
    seed alike; the evaluation sets take points from 2 on (``revalidate.jl`` skips Sobol.jl's
    first point), u ↦ high − u·(high − low), as the reference maps them. Each range is one
    interval. The subsets are as for a static task (``placement="first"``: the reference's).

    >>> task = SobolTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
    ...                  interpolation=[0, 2], extrapolation=[0, 4])
    >>> task.sample(2, Draws(seed=5, stream=TRAIN, step=0)).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.5, 0.5, 0.5, 0.5]]
    >>> task.sample(2, Draws(seed=0, stream=TRAIN, step=1))[0].tolist()  # point 3
    [0.5, 1.5, 1.5, 1.5]
    >>> task.sample(1, Draws(seed=0, stream=7), extrapolation=True).tolist()  # point 2, from the top
    [[1.0, 3.0, 3.0, 3.0]]
    """

    uniform_inputs: ClassVar[bool] = False  # Sobol points, computed by sample()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("interpolation", "extrapolation"):
            if len(getattr(self, name).intervals) != 1:
                raise ValueError(f"a Sobol task's {name} range is one interval, got {getattr(self, name)}")
        if self.train_samples is not None:
            raise ValueError("a Sobol task takes new points every step; it has no fixed training set")

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs of shape (n, d): the training stream's step t gives points from 1 + t·n, any
        other stream points from 2 (``draws.first_row`` further on)."""
        first = (1 + draws.step * n if draws.stream == TRAIN else 2) + draws.first_row
        u = sobol_points(first, n, self.input_size)
        (low, high), = (self.extrapolation if extrapolation else self.interpolation).intervals
        if draws.stream == TRAIN:
            return (low + u * (high - low)).astype(dtype, copy=False)
        return (high - u * (high - low)).astype(dtype, copy=False)

    def describe(self) -> str:
        return super().describe().replace("a fresh batch every step", "the next Sobol points every step")
