"""Sampling ranges: an interval such as [1, 2], or a union such as [-6, -2] ∪ [2, 6]."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..philox import Draws, uniform


@dataclass(frozen=True)
class Range:
    """A union of disjoint closed intervals, sampled uniformly by total length.

    >>> r = Range.parse("[-6,-2]U[2,6]")
    >>> r, r.length
    (Range([-6.0, -2.0] U [2.0, 6.0]), 8.0)
    >>> x = r.sample((1000,), Draws(seed=0, stream=1))
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
            if not math.isfinite(high - low):
                raise ValueError(f"bad range interval [{low:g}, {high:g}]: its length overflows a float")
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

    def sample(self, shape, draws: Draws, dtype=np.float64) -> np.ndarray:
        """Uniform samples: one draw of :func:`~nalm.philox.uniform` per value, mapped
        through the intervals."""
        return self.from_uniform(uniform(draws, shape, dtype))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Map U(0, 1) draws onto the range (in place for a single interval)."""
        dtype = u.dtype
        if len(self.intervals) == 1:
            low, high = self.intervals[0]
            if high - low != 1:  # a unit width (U[1, 2], say) saves a pass over a large batch
                u *= dtype.type(high - low)
            u += dtype.type(low)
            return u
        # Position t along the concatenated intervals; searchsorted picks the interval, and
        # clipping keeps a position rounded onto a boundary inside it.
        lows, highs, ends, starts = self.arrays(dtype)
        t = u * ends[-1]
        k = np.minimum(np.searchsorted(ends, t, side="right"), len(ends) - 1)
        return np.clip(lows[k] + (t - starts[k]), lows[k], highs[k])

    def arrays(self, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The intervals' lows, highs, cumulative ends and starts, each rounded once to ``dtype``
        from float64: what :meth:`from_uniform` and the compiled kernels
        (:mod:`nalm.train.kernels`) map draws with, so that both give the same numbers."""
        lows = np.array([low for low, _ in self.intervals])
        highs = np.array([high for _, high in self.intervals])
        ends = np.cumsum(highs - lows)
        return tuple(a.astype(dtype) for a in (lows, highs, ends, ends - (highs - lows)))

    def to_list(self) -> list[list[float]]:
        return [list(i) for i in self.intervals]

    def __repr__(self) -> str:
        return f"Range({self})"

    def __str__(self) -> str:
        return " U ".join(f"[{lo}, {hi}]" for lo, hi in self.intervals)
