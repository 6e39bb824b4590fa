"""Sampling ranges: an interval such as [1, 2], or a union such as [-6, -2] ∪ [2, 6]."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
                parts = [p.strip().strip("[]").split(",") for p in value.replace("∪", "U").split("U")]
                value = [[float(lo), float(hi)] for lo, hi in parts]
            except ValueError:
                raise ValueError(f"bad range {value!r}: expected e.g. '[1,2]' or '[-6,-2]U[2,6]'") from None
        try:
            if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
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
        u = rng.random(shape, dtype=dtype)
        if len(self.intervals) == 1:
            low, high = self.intervals[0]
            return low + (high - low) * u
        # Walk the total length: position t in [0, length) falls into one interval.
        t = u * self.length
        out = np.empty_like(t)
        start = 0.0
        for low, high in self.intervals:
            inside = (t >= start) & (t < start + high - low)
            out[inside] = low + (t[inside] - start)
            start += high - low
        out[t >= start] = self.intervals[-1][1]  # only u rounding up to 1
        return out

    def to_list(self) -> list[list[float]]:
        return [list(i) for i in self.intervals]

    def __repr__(self) -> str:
        return "Range(" + " U ".join(f"[{lo}, {hi}]" for lo, hi in self.intervals) + ")"
