"""Sampling ranges: an interval such as [1, 2], or a union such as [-6, -2] ∪ [2, 6]."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


SAMPLER = {"bits": "PCG64 (numpy), one generator per (seed, stream)", "uniform": "centred grid, version 2"}
"""What draws every task's numbers, stored with each run: runs drawn otherwise never share a
key, so a store never mixes them (version 1 was the grid that starts at 0)."""


def uniform_streams(rngs, n: int, dtype=np.float64, maps=None) -> np.ndarray:
    """n U(0, 1) draws from each generator, as one (len(rngs), n) array.

    Built from the generators' raw 64-bit output, which is about twice as fast as
    ``rng.random`` and matters because a population draws a fresh batch per seed at every
    step: the random bits fill a float's mantissa under the exponent of 1.0, giving [1, 2).
    float32 takes 23 random bits (two per draw), float64 52.

    Subtracting 1 minus half a grid step (exact) centres every draw in its cell: the draws
    are the odd multiples of 2^-24 (float32) or 2^-53 (float64) in (0, 1), symmetric about
    1/2, never 0. With a grid that starts at 0, U[-2, 2] in float32 gave b = 0 exactly once
    in 2^23 draws: in half the seeds of a 50k-step run, and a/b was then infinite. The
    reference code draws in float64 (numpy) and casts, where that never happens; the
    centred grid keeps the float32 speed and, for ranges symmetric about 0 with a
    power-of-two width such as [-2, 2], never yields 0.

    ``maps``, one per generator, turn each stream's draws into samples (such as
    :meth:`Range.from_uniform`). Each row goes through every step while it is in cache,
    rather than the whole batch (5 MB for 100 madsen2020 members) through one step at a time.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        words, shift, one, draws = np.uint32, 9, 0x3F800000, (n + 1) // 2
        below_one = dtype.type(1 - 2.0 ** -24)
    elif dtype == np.float64:
        words, shift, one, draws = np.uint64, 12, 0x3FF0000000000000, n
        below_one = dtype.type(1 - 2.0 ** -53)
    else:
        raise ValueError(f"uniform draws need float32 or float64, not {dtype}")
    out = np.empty((len(rngs), n), dtype=words)
    for row, rng, to_samples in zip(out, rngs, maps or [None] * len(rngs)):
        np.right_shift(rng.bit_generator.random_raw(draws).view(words)[:n], words(shift), out=row)
        np.bitwise_or(row, words(one), out=row)
        floats = row.view(dtype)  # [1, 2)
        floats -= below_one
        if to_samples is not None:
            samples = to_samples(floats)
            if samples is not floats:
                floats[...] = samples
    return out.view(dtype)


def uniform(rng: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """U[0, 1) draws of the given shape (see :func:`uniform_streams`)."""
    return uniform_streams([rng], math.prod(shape), dtype).reshape(shape)


@dataclass(frozen=True)
class Range:
    """A union of disjoint closed intervals, sampled uniformly by total length.

    >>> r = Range.parse("[-6,-2]U[2,6]")
    >>> r, r.length
    (Range([-6.0, -2.0] U [2.0, 6.0]), 8.0)
    >>> x = r.sample((1000,), np.random.default_rng(0))
    >>> bool(((x >= -6) & (x <= -2) | (x >= 2) & (x <= 6)).all())
    True
    """

    intervals: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.intervals:
            raise ValueError("a range needs at least one interval")
        previous_high = -math.inf
        for low, high in self.intervals:
            if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
                raise ValueError(f"bad range interval [{low}, {high}]: need finite low < high")
            if low < previous_high:
                raise ValueError(f"range intervals must be sorted and disjoint: {self.intervals}")
            previous_high = high

    @classmethod
    def parse(cls, value) -> "Range":
        """From ``Range``, ``[lo, hi]``, ``[[lo, hi], ...]`` or text ``"[lo,hi]U[lo,hi]"``."""
        if isinstance(value, Range):
            return value
        if isinstance(value, str):
            try:
                text = value.replace("∪", "U").replace("\u2212", "-")  # also the Unicode minus sign
                parts = [p.strip().strip("[]").split(",") for p in text.split("U")]
                value = [[float(lo), float(hi)] for lo, hi in parts]
            except ValueError:
                raise ValueError(f"bad range {value!r}: expected e.g. '[1,2]' or '[-6,-2]U[2,6]'") from None
        try:
            if len(value) == 2 and all(isinstance(v, (int, float, np.number)) for v in value):
                value = [value]
            return cls(tuple((float(lo), float(hi)) for lo, hi in value))
        except (TypeError, ValueError) as error:
            if isinstance(error, ValueError) and "range" in str(error):
                raise
            raise ValueError(f"bad range {value!r}: expected [low, high] or a list of them") from None

    @property
    def length(self) -> float:
        return sum(high - low for low, high in self.intervals)

    def sample(self, shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        """Uniform samples: one uniform draw per value, mapped through the intervals."""
        return self.from_uniform(uniform(rng, shape, dtype))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Map U[0, 1) draws onto the range (in place for a single interval)."""
        dtype = u.dtype
        if len(self.intervals) == 1:
            low, high = self.intervals[0]
            if high - low != 1:  # a unit width (U[1, 2], say) saves a pass over a large batch
                u *= dtype.type(high - low)
            u += dtype.type(low)
            return u
        # Position t along the concatenated intervals; searchsorted picks the interval, and
        # clipping keeps a position rounded onto a boundary inside it.
        lows = np.array([low for low, _ in self.intervals], dtype=dtype)
        highs = np.array([high for _, high in self.intervals], dtype=dtype)
        ends = np.cumsum(highs - lows)
        t = u * ends[-1]
        k = np.minimum(np.searchsorted(ends, t, side="right"), len(ends) - 1)
        return np.clip(lows[k] + (t - (ends[k] - (highs[k] - lows[k]))), lows[k], highs[k])

    def to_list(self) -> list[list[float]]:
        return [list(i) for i in self.intervals]

    def __repr__(self) -> str:
        return "Range(" + " U ".join(f"[{lo}, {hi}]" for lo, hi in self.intervals) + ")"
