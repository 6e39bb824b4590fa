"""Arithmetic tasks whose inputs follow a distribution other than the uniform one.

Schlör, Ring & Hotho (2020) draw a and b from a uniform, a truncated normal or an exponential
distribution (daschloer/inalu ``nalu_syn_simple_arith.py:57-79``): :class:`DistributionTask`.
Their simple function task draws 100 such inputs and sums a random selection of them into a
and b (``nalu_syn_simple_func.py:35-108``): :class:`SelectorTask`. Mistry et al. (2021) draw a
and b from truncated normals whose mean and spread are set apart from the range that bounds
them, and from a Benford distribution (bmistry4/nalm-division
``stable_nalu/dataset/_simple_function_abstact.py:151-189``): :class:`BoundedDistributionTask`.
Each value is the inverse distribution function of one Philox uniform draw
(:func:`~nalm.philox.uniform`), so a value depends only on where it sits, as for every other task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from ..philox import Draws, uniform
from ..streams import LAYOUT
from .ranges import Range
from .static import RangeInputs, StaticTask, stream

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
    distributions: ClassVar[tuple[str, ...]] = DISTRIBUTIONS

    def __post_init__(self) -> None:
        if self.distribution not in self.distributions:
            raise ValueError(f"distribution must be one of {self.distributions}, got {self.distribution!r}")
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
        return truncated_normal(u, (low + high) / 2, self.normal_std(low, high), low, high)

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


def truncated_normal(u: np.ndarray, mean: float, std: float, low: float, high: float) -> np.ndarray:
    """N(mean, std²) truncated to [low, high], by its inverse distribution function of U(0, 1) draws ``u``."""
    lower, upper = ndtr((low - mean) / std), ndtr((high - mean) / std)
    return np.clip(mean + std * ndtri(lower + u * (upper - lower)), low, high)


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


BOUNDED_DISTRIBUTIONS = ("uniform", "truncated-normal", "benford")

BENFORD = (0.301, 0.176, 0.125, 0.097, 0.079, 0.067, 0.058, 0.051, 0.046)
"""P(first digit = d) for d = 1 … 9: Benford's law log10(1 + 1/d) to three places, as the
reference's table (bmistry4/nalm-division ``stable_nalu/dataset/_simple_function_abstact.py:65``,
``BENFORD_PERCENTAGES``; they sum to 1)."""


@dataclass(frozen=True)
class BoundedDistributionTask(DistributionTask):
    """Input [a, b], or a and b two adjacent inputs of ``input_size`` at an offset drawn per seed
    (:class:`~nalm.tasks.StaticTask`'s random placement of one-input subsets), each input drawn
    from ``distribution`` with parameters of its own, the range bounding it:

    * ``'uniform'``: U[low, high], as :class:`DistributionTask`'s;
    * ``'truncated-normal'``: N(mean, std²) truncated to [low, high], mean and std given per
      range (the reference's ``truncnorm.rvs`` with ``--sample-distribution truncated-normal
      MEAN STD MEAN STD``);
    * ``'benford'``: integers whose first digit d follows Benford's law (:data:`BENFORD`) and
      whose other digits are a uniform integer o of [low/10, high/10): d·10^k + o, k the number of
      digits of o (the reference's sampler, ``_simple_function_abstact.py:169-189``). The range
      is [10^k, 10^(k+1)], k ≥ 1, where every value has first digit d and lies in the range.

    One uniform draw u gives a Benford value: its digit d is the bin of u in the cumulative
    law, and u's place within that bin gives o.

    Args:
        distribution: one of :data:`BOUNDED_DISTRIBUTIONS`.
        interpolation, extrapolation, train_samples: as for :class:`DistributionTask`.
        interpolation_mean, interpolation_std, extrapolation_mean, extrapolation_std: the
            truncated normals' (``None`` for the other distributions).
        input_size: the inputs; 2 is [a, b].

    >>> task = BoundedDistributionTask("benford", [10, 100], [100, 1000])
    >>> x = task.sample(100_000, Draws(seed=0, stream=1), extrapolation=True)
    >>> bool((x >= 110).all() and (x <= 999).all() and (x == np.round(x)).all())
    True
    >>> round(float(np.mean(x // 100 == 1)), 2)  # log10(2)
    0.3
    >>> task = BoundedDistributionTask("truncated-normal", [-5, 10], [-15, -5], interpolation_mean=-1.0,
    ...                                interpolation_std=3.0, extrapolation_mean=-10.0, extrapolation_std=3.0)
    >>> task.describe_values(task.extrapolation, extrapolation=True)
    'N(-10, 3²) truncated to [-15, -5]'
    """

    interpolation_mean: float | None = None
    interpolation_std: float | None = None
    extrapolation_mean: float | None = None
    extrapolation_std: float | None = None
    input_size: int = 2

    distributions: ClassVar[tuple[str, ...]] = BOUNDED_DISTRIBUTIONS

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.input_size, bool) or not isinstance(self.input_size, int) or self.input_size < 2:
            raise ValueError(f"input_size must be an integer of at least 2, got {self.input_size!r}")
        parameters = (self.interpolation_mean, self.interpolation_std, self.extrapolation_mean, self.extrapolation_std)
        if self.distribution == "truncated-normal":
            if any(p is None or isinstance(p, bool) or not np.isfinite(p) for p in parameters) or \
                    not (self.interpolation_std > 0 and self.extrapolation_std > 0):
                raise ValueError("a truncated normal needs a finite mean and a positive std for each range, got "
                                 f"{parameters}")
        elif any(p is not None for p in parameters):
            raise ValueError(f"means and stds are the truncated normal's; a {self.distribution} task has none")
        if self.distribution == "benford":
            for values in (self.interpolation, self.extrapolation):
                (low, high), = values.intervals
                power = round(np.log10(low)) if low > 0 else 0
                if not (power >= 1 and low == 10.0 ** power and high == 10.0 ** (power + 1)):
                    raise ValueError(f"a Benford range is [10^k, 10^(k+1)] with k >= 1, got {values}")

    @property
    def in_features(self) -> int:
        return self.input_size

    def layout(self, seed: int) -> np.ndarray:
        """a = x1, b = x2 of two inputs; of more, two adjacent inputs at the seed's offset."""
        if self.input_size == 2:
            return np.eye(2)
        return StaticTask(input_size=self.input_size, subset_ratio=1 / self.input_size, overlap_ratio=0.0,
                          placement="random").layout(seed)

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs of shape (n, d): row i from row i of ``draws``."""
        u = uniform(draws, (n, self.input_size), np.float64)
        return self.from_uniform(u, extrapolation).astype(dtype, copy=False)

    totals = sample

    def from_uniform(self, u: np.ndarray, extrapolation: bool = False) -> np.ndarray:
        values = self.extrapolation if extrapolation else self.interpolation
        (low, high), = values.intervals
        if self.distribution == "uniform":
            return values.from_uniform(u)
        if self.distribution == "truncated-normal":
            return truncated_normal(u, *self.normal(extrapolation), low, high)
        return benford(u, low, high)

    def normal(self, extrapolation: bool) -> tuple[float, float]:
        """The truncated normal's mean and std on the extrapolation or the interpolation range."""
        if extrapolation:
            return float(self.extrapolation_mean), float(self.extrapolation_std)
        return float(self.interpolation_mean), float(self.interpolation_std)

    def describe_values(self, values: Range, extrapolation: bool | None = None) -> str:
        (low, high), = values.intervals
        if self.distribution == "benford":
            return f"Benford integers of [{low:g}, {high:g})"
        if self.distribution == "truncated-normal":
            mean, std = self.normal(values == self.extrapolation if extrapolation is None else extrapolation)
            return f"N({mean:g}, {std:g}²) truncated to [{low:g}, {high:g}]"
        return f"U[{low:g}, {high:g}]"

    def describe(self) -> str:
        inputs = "[a, b]" if self.input_size == 2 else f"x ∈ R^{self.input_size}, a and b two adjacent inputs at a seed's offset,"
        return (f"{inputs} each from {self.describe_values(self.interpolation, False)} (train) / "
                f"{self.describe_values(self.extrapolation, True)} (test), "
                + self.describe_training())


def benford(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """Benford integers of [low, high) = [10^k, 10^(k+1)) from U(0, 1) draws ``u`` (:class:`BoundedDistributionTask`)."""
    ends = np.cumsum(BENFORD)
    ends = ends / ends[-1]
    digit = np.minimum(np.searchsorted(ends, u, side="right"), len(BENFORD) - 1)  # 0 for first digit 1
    start = np.where(digit == 0, 0.0, ends[np.maximum(digit - 1, 0)])
    within = np.clip((u - start) / (ends[digit] - start), 0.0, np.nextafter(1.0, 0.0))  # u's place in its bin
    first, last = low / 10, high / 10  # the reference's randint(low/10, high/10): o in [first, last)
    return (digit + 1) * low + first + np.floor(within * (last - first))
