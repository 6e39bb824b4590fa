"""Two-input arithmetic tasks whose inputs follow a distribution other than the uniform one.

Schlör, Ring & Hotho (2020) draw a and b from a uniform, a truncated normal or an exponential
distribution (daschloer/inalu ``nalu_syn_simple_arith.py:57-79``). Each value is the inverse
distribution function of one Philox uniform draw (:func:`~nalm.philox.uniform`), so a value
depends only on where it sits, as for every other task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from ..philox import Draws, uniform
from .ranges import Range
from .targets import check_target

DISTRIBUTIONS = ("uniform", "truncated-normal", "exponential")


@dataclass(frozen=True)
class DistributionTask:
    """Input [a, b], each drawn from ``distribution`` parametrized by a range [low, high]:

    * ``'uniform'``: U[low, high];
    * ``'truncated-normal'``: a normal of mean (low + high)/2 and standard deviation
      (high − low)/6, truncated to [low, high] (the reference's ``truncnorm``);
    * ``'exponential'``: low + Exp(β) with scale β = high − low, so values run beyond high
      (the reference's ``np.random.exponential(β)`` is [0, β]).

    Args:
        distribution: one of :data:`DISTRIBUTIONS`.
        interpolation, extrapolation: the training range and the test range, read as above.
        train_samples: as for :class:`~nalm.tasks.StaticTask`.

    >>> task = DistributionTask("exponential", interpolation=[0, 0.2], extrapolation=[0, 0.5])
    >>> x = task.sample(100_000, Draws(seed=0, stream=1))
    >>> x.shape, bool((x > 0).all()), round(float(x.mean()), 2)
    ((100000, 2), True, 0.2)
    """

    distribution: str = "uniform"
    interpolation: Range = field(default_factory=lambda: Range.parse([-1, 1]))
    extrapolation: Range = field(default_factory=lambda: Range.parse([-10, -5]))
    train_samples: int | None = None

    in_features: ClassVar[int] = 2
    input_shape: ClassVar[tuple[int, ...]] = (2,)
    recurrent: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}")
        for name in ("interpolation", "extrapolation"):
            value = Range.parse(getattr(self, name))
            if len(value.intervals) != 1:
                raise ValueError(f"a {self.distribution} {name} range is one interval, got {value}")
            object.__setattr__(self, name, value)
        if self.train_samples is not None and self.train_samples < 1:
            raise ValueError(f"train_samples must be positive or None, got {self.train_samples}")

    @property
    def input_ranges(self) -> tuple[Range, ...]:
        return self.interpolation, self.extrapolation

    @property
    def uniform_inputs(self) -> bool:
        """Only a uniform task's values are uniform draws that the compiled kernels can map."""
        return self.distribution == "uniform"

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless the task computes target ``name``."""
        check_target(name)

    def layout(self, seed: int) -> np.ndarray:
        return np.eye(2)

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs [a, b] of shape (n, 2): row i from row i of ``draws``."""
        u = uniform(draws, (n, 2), np.float64)
        return self.from_uniform(u, extrapolation).astype(dtype, copy=False)

    def from_uniform(self, u: np.ndarray, extrapolation: bool = False) -> np.ndarray:
        """Inputs from U(0, 1) draws, through the distribution's inverse distribution function."""
        values = self.extrapolation if extrapolation else self.interpolation
        (low, high), = values.intervals
        if self.distribution == "uniform":
            return values.from_uniform(u)
        if self.distribution == "exponential":
            return low - (high - low) * np.log1p(-u)
        mean, std = (low + high) / 2, (high - low) / 6
        lower, upper = ndtr((low - mean) / std), ndtr((high - mean) / std)
        return np.clip(mean + std * ndtri(lower + u * (upper - lower)), low, high)

    totals = sample

    def describe(self) -> str:
        def one(values: Range) -> str:
            (low, high), = values.intervals
            if self.distribution == "exponential":
                return f"{low:g} + Exp(scale {high - low:g})"
            if self.distribution == "truncated-normal":
                return f"N({(low + high) / 2:g}, {(high - low) / 6:g}²) truncated to [{low:g}, {high:g}]"
            return f"U[{low:g}, {high:g}]"
        return (f"[a, b] each from {one(self.interpolation)} (train) / {one(self.extrapolation)} (test), "
                + ("a fresh batch every step" if self.train_samples is None else f"{self.train_samples} training samples"))
