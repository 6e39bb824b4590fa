"""Arithmetic tasks whose inputs follow a distribution other than the uniform one.

Schlör, Ring & Hotho (2020) draw a and b from a uniform, a truncated normal or an exponential
distribution (daschloer/inalu ``nalu_syn_simple_arith.py:57-79``): :class:`DistributionTask`.
Their simple function task draws 100 such inputs and sums a random selection of them into a
and b (``nalu_syn_simple_func.py:35-108``): :class:`SelectorTask`. Each value is the inverse
distribution function of one Philox uniform draw (:func:`~nalm.philox.uniform`), so a value
depends only on where it sits, as for every other task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from ..philox import Draws, uniform
from ..streams import LAYOUT
from .ranges import Range
from .static import RangeInputs, stream

DISTRIBUTIONS = ("uniform", "truncated-normal", "exponential")


@dataclass(frozen=True)
class DistributionTask(RangeInputs):
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

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}")
        self.check_ranges()
        for name, value in zip(("interpolation", "extrapolation"), self.input_ranges):
            if len(value.intervals) != 1:
                raise ValueError(f"a {self.distribution} {name} range is one interval, got {value}")

    @property
    def uniform_inputs(self) -> bool:
        """Only a uniform task's values are uniform draws that the compiled kernels can map."""
        return self.distribution == "uniform"

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
        mean, std = (low + high) / 2, self.normal_std(low, high)
        lower, upper = ndtr((low - mean) / std), ndtr((high - mean) / std)
        return np.clip(mean + std * ndtri(lower + u * (upper - lower)), low, high)

    def normal_std(self, low: float, high: float) -> float:
        """The standard deviation of the truncated normal on [low, high]."""
        return (high - low) / 6

    def describe_values(self, values: Range) -> str:
        """One range's distribution, for people."""
        (low, high), = values.intervals
        if self.distribution == "exponential":
            return f"{low:g} + Exp(scale {high - low:g})"
        if self.distribution == "truncated-normal":
            return f"N({(low + high) / 2:g}, {self.normal_std(low, high):g}²) truncated to [{low:g}, {high:g}]"
        return f"U[{low:g}, {high:g}]"

    def describe(self) -> str:
        return (f"[a, b] each from {self.describe_values(self.interpolation)} (train) / "
                f"{self.describe_values(self.extrapolation)} (test), " + self.describe_training())


SELECTOR_SHARES = (0.5, 0.25)
"""The chance that an input is summed into a, and into b (otherwise it is unused): the reference's
``np.round(np.random.uniform(0, 2, d)) - 1`` is 0 (a) on [0.5, 1.5), 1 (b) on [1.5, 2) and −1
(unused) on [0, 0.5) (``nalu_syn_simple_func.py:50-51``, :99-102)."""


@dataclass(frozen=True)
class SelectorTask(DistributionTask):
    """Input x ∈ R^d, each value drawn from ``distribution`` as :class:`DistributionTask` draws a
    and b; per seed, each input is summed into a with chance 1/2, into b with chance 1/4, or
    into neither (:data:`SELECTOR_SHARES`), the subsets disjoint.

    Args:
        distribution, interpolation, extrapolation, train_samples: as for
            :class:`DistributionTask`.
        input_size: d.
        std: the truncated normal's standard deviation; ``None`` is (high − low)/6.

    >>> task = SelectorTask("truncated-normal", [-3, 3], [3, 4])
    >>> x = task.sample(4, Draws(seed=0, stream=1))
    >>> x.shape, bool(((x >= -3) & (x <= 3)).all())
    ((4, 100), True)
    >>> a, b = task.layout(seed=0).sum(0)  # how many inputs each operand sums
    >>> int(a), int(b)
    (44, 25)
    """

    input_size: int = 100
    std: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.input_size, int) or self.input_size < 2:
            raise ValueError(f"input_size must be an integer of at least 2, got {self.input_size!r}")
        if self.std is not None and not self.std > 0:
            raise ValueError(f"std must be positive or None, got {self.std!r}")
        if self.std is not None and self.distribution != "truncated-normal":
            raise ValueError(f"std is the truncated normal's; a {self.distribution} task has none")

    @property
    def in_features(self) -> int:
        return self.input_size

    def normal_std(self, low: float, high: float) -> float:
        return (high - low) / 6 if self.std is None else self.std

    def layout(self, seed: int) -> np.ndarray:
        """The seed's selection as a 0/1 matrix of shape (d, 2): ``x @ layout`` gives [a, b]."""
        u = stream(seed, LAYOUT).random(self.input_size)
        matrix = np.zeros((self.input_size, 2))
        matrix[u < SELECTOR_SHARES[0], 0] = 1.0
        matrix[(u >= SELECTOR_SHARES[0]) & (u < sum(SELECTOR_SHARES)), 1] = 1.0
        return matrix

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs of shape (n, d): row i from row i of ``draws``."""
        u = uniform(draws, (n, self.input_size), np.float64)
        return self.from_uniform(u, extrapolation).astype(dtype, copy=False)

    def describe(self) -> str:
        return (f"x ∈ R^{self.input_size}, each from {self.describe_values(self.interpolation)} (train) / "
                f"{self.describe_values(self.extrapolation)} (test); per seed each input summed into a (chance "
                f"{SELECTOR_SHARES[0]:g}), b ({SELECTOR_SHARES[1]:g}) or neither, " + self.describe_training())
