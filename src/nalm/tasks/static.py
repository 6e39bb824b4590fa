"""Static arithmetic tasks: a and b are sums of parts of the input, the target is op(a, b).

Tasks are frozen dataclasses, seeded and free of I/O. A seed's layout (which inputs are
summed into a and b) comes from the numpy generator :func:`stream` ``(seed, LAYOUT)``; every
value a model sees is a Philox draw (:mod:`nalm.philox`) of ``(seed, stream, step)``, a
pure function of where it sits. Neither depends on which other seeds are trained beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..philox import Draws, uniform
from .ranges import Range
from .targets import check_target
from ..streams import EXTRAPOLATION_POOL, LAYOUT, POOL, TRAIN  # noqa: F401  (TRAIN: in doctests)


PLACEMENTS = ("random", "first", "scattered")


def stream(seed: int, which: int) -> np.random.Generator:
    """The numpy generator of one stream of one seed (PCG64 keyed by a SeedSequence): the layouts."""
    return np.random.default_rng([seed, which])


class RangeInputs:
    """What a task whose inputs come from a training and a test range shares: its fields
    ``interpolation``, ``extrapolation`` and ``train_samples`` read and checked
    (:meth:`check_ranges`, called by ``__post_init__``), the ranges it names, its targets, the
    shape of a sample (``(in_features,)``), a sample as ``in_features`` uniform draws mapped to
    the range (:meth:`from_uniform`), a sample's totals as the sample itself, and the end of
    its description. Field-less, so that a dataclass keeps its own fields in their order.
    """

    recurrent: ClassVar[bool] = False

    def check_ranges(self) -> None:
        """Read the two ranges (a range or what :meth:`Range.parse` takes) and check ``train_samples``."""
        object.__setattr__(self, "interpolation", Range.parse(self.interpolation))
        object.__setattr__(self, "extrapolation", Range.parse(self.extrapolation))
        if self.train_samples is not None and self.train_samples < 1:
            raise ValueError(f"train_samples must be positive or None, got {self.train_samples}")

    @property
    def input_ranges(self) -> tuple[Range, ...]:
        return self.interpolation, self.extrapolation

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless the task computes target ``name`` (one of :data:`~nalm.tasks.targets.TARGETS`)."""
        check_target(name)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one sample."""
        return (self.in_features,)

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs of shape (n, d) from the interpolation or the extrapolation range: row i is
        row i of ``draws``."""
        return self.from_uniform(uniform(draws, (n, self.in_features), dtype), extrapolation)

    def from_uniform(self, u: np.ndarray, extrapolation: bool = False) -> np.ndarray:
        """Inputs from U(0, 1) draws of any shape ``(..., d)``; what :meth:`sample` does after drawing."""
        return (self.extrapolation if extrapolation else self.interpolation).from_uniform(u)

    def totals(self, n: int, draws: Draws, extrapolation: bool = False) -> np.ndarray:
        """n vectors of shape (n, d) whose subsets sum to a and b: here, the inputs themselves."""
        return self.sample(n, draws, extrapolation)

    def describe_training(self) -> str:
        """How the task trains: on fresh batches or a fixed set; the end of :meth:`describe`."""
        return "a fresh batch every step" if self.train_samples is None else f"{self.train_samples} training samples"


@dataclass(frozen=True)
class StaticTask(RangeInputs):
    """Input x ∈ R^d from a range; a and b are sums over two subsets of x.

    Args:
        input_size: d.
        subset_ratio: each subset holds ``floor(subset_ratio * d)`` elements (at least 1).
        overlap_ratio: the share of a subset that a and b have in common.
        placement: ``'random'``: contiguous subsets at a random offset per seed (Madsen &
            Johansen 2020); ``'first'``: contiguous, starting at element 0; ``'scattered'``:
            a and b are independent random (non-contiguous) subsets, overlap by chance.
        interpolation, extrapolation: the training and the test range.
        train_samples: ``None`` draws a fresh batch every step; a number fixes a training
            set of that size per seed, used whole at every step (full batch).

    >>> task = StaticTask(placement="first")
    >>> a, b = task.subsets(seed=0)
    >>> a.tolist()[::24], b.tolist()[::24]  # first and last of 25 elements each
    ([0, 24], [13, 37])
    """

    input_size: int = 100
    subset_ratio: float = 0.25
    overlap_ratio: float = 0.5
    placement: str = "random"
    interpolation: Range = field(default_factory=lambda: Range.parse([1, 2]))
    extrapolation: Range = field(default_factory=lambda: Range.parse([2, 6]))
    train_samples: int | None = None

    uniform_inputs: ClassVar[bool] = True  # each value a uniform draw mapped to the range (see Task)

    def __post_init__(self) -> None:
        self.check_ranges()
        if not isinstance(self.input_size, int) or self.input_size < 1:
            raise ValueError(f"input_size must be a positive integer, got {self.input_size!r}")
        if not 0 < self.subset_ratio <= 1 or not 0 <= self.overlap_ratio <= 1:
            raise ValueError("subset_ratio must be in (0, 1] and overlap_ratio in [0, 1]")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, got {self.placement!r}")
        if self.placement != "scattered" and self.span > self.input_size:
            raise ValueError(f"two subsets of {self.subset_size} overlapping by {self.overlap_size} "
                             f"do not fit in {self.input_size} inputs")

    @property
    def in_features(self) -> int:
        return self.input_size

    @property
    def subset_size(self) -> int:
        return max(1, math.floor(self.subset_ratio * self.input_size))

    @property
    def overlap_size(self) -> int:
        return math.floor(self.overlap_ratio * self.subset_size)

    @property
    def span(self) -> int:
        return 2 * self.subset_size - self.overlap_size

    def subsets(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted indices of the elements summed into a and into b for this seed."""
        n, k = self.input_size, self.subset_size
        rng = stream(seed, LAYOUT)
        if self.placement == "scattered":
            return np.sort(rng.choice(n, k, replace=False)), np.sort(rng.choice(n, k, replace=False))
        offset = 0 if self.placement == "first" else int(rng.integers(0, n - self.span + 1))
        a = np.arange(offset, offset + k)
        return a, a + k - self.overlap_size

    def layout(self, seed: int) -> np.ndarray:
        """The subsets as a 0/1 matrix of shape (d, 2): ``x @ layout`` gives [a, b]."""
        matrix = np.zeros((self.input_size, 2))
        for column, indices in enumerate(self.subsets(seed)):
            matrix[indices, column] = 1.0
        return matrix

    def describe(self) -> str:
        return (f"x in {self.interpolation} (train) / {self.extrapolation} (test), d={self.input_size}, "
                f"subsets of {self.subset_size} overlapping by {self.overlap_size}, placement {self.placement}, "
                + self.describe_training())


@dataclass(frozen=True)
class PrefixTask(RangeInputs):
    """Input x ∈ R^d from a range; a sums the first ``a_size`` inputs and b the first ``b_size``,
    so that one subset holds the other, d = max(a_size, b_size). The same layout for every seed.

    Madsen & Johansen 2020's introduction task t = (x1 + x2 + x3 + x4)(x1 + x2) with
    ``a_size=4, b_size=2``: stable-nalu's ``--simple`` dataset
    (``stable_nalu/dataset/_simple_function_abstact.py:70-73``), which :class:`StaticTask`'s
    two subsets of one size cannot express.

    >>> task = PrefixTask()
    >>> task.layout(seed=7).T.tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]
    """

    a_size: int = 4
    b_size: int = 2
    interpolation: Range = field(default_factory=lambda: Range.parse([1, 2]))
    extrapolation: Range = field(default_factory=lambda: Range.parse([2, 6]))
    train_samples: int | None = None

    uniform_inputs: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.check_ranges()
        for name in ("a_size", "b_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @property
    def in_features(self) -> int:
        return max(self.a_size, self.b_size)

    def layout(self, seed: int) -> np.ndarray:
        """(d, 2): ones over the first ``a_size`` rows of column a and the first ``b_size`` of column b."""
        matrix = np.zeros((self.in_features, 2))
        matrix[:self.a_size, 0] = 1.0
        matrix[:self.b_size, 1] = 1.0
        return matrix

    def describe(self) -> str:
        return (f"x in {self.interpolation} (train) / {self.extrapolation} (test), d={self.in_features}, a the sum "
                f"of the first {self.a_size} inputs, b of the first {self.b_size}, " + self.describe_training())


@dataclass(frozen=True)
class PoolTask(RangeInputs):
    """The seed blog's task: the model sees [a, b], sums of entries of one fixed vector.

    Per seed, a vector v of ``pool_size`` values is drawn from the range; each sample picks
    ``terms`` random entries of v for a and ``terms`` other entries for b. The training set
    (``train_samples``) and the test sets are drawn once per seed (kevinzakka's port, as
    used by the seed blog, with 500 training and 50 test samples). The blog only tested
    interpolation; here extrapolation samples come from a second vector drawn from the
    extrapolation range. The vectors are the draws of streams ``POOL`` and
    ``EXTRAPOLATION_POOL`` of the seed; the picks, those of the draws a sample is given.

    >>> task = PoolTask()
    >>> x = task.sample(4, Draws(seed=0, stream=TRAIN))
    >>> x.shape, bool(((x >= 25) & (x <= 50)).all())
    ((4, 2), True)
    """

    pool_size: int = 100
    terms: int = 5
    interpolation: Range = field(default_factory=lambda: Range.parse([5, 10]))
    extrapolation: Range = field(default_factory=lambda: Range.parse([10, 20]))
    train_samples: int | None = 500

    def __post_init__(self) -> None:
        self.check_ranges()
        if 2 * self.terms > self.pool_size:
            raise ValueError(f"{2 * self.terms} distinct terms do not fit in a pool of {self.pool_size}")

    in_features = 2
    uniform_inputs = False  # sums of entries of a drawn vector

    def layout(self, seed: int) -> np.ndarray:
        return np.eye(2)

    def pool(self, seed: int, extrapolation: bool) -> np.ndarray:
        """The vector v of this seed for the interpolation or the extrapolation range."""
        r = self.extrapolation if extrapolation else self.interpolation
        return r.sample((self.pool_size,), Draws(seed, EXTRAPOLATION_POOL if extrapolation else POOL))

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs [a, b] of shape (n, 2); ``draws.seed`` selects the vector v, row i of
        ``draws`` the entries of sample i."""
        v = self.pool(draws.seed, extrapolation)
        picks = uniform(draws, (n, self.pool_size)).argsort(axis=1)[:, : 2 * self.terms]  # distinct entries
        sums = v[picks].reshape(n, 2, self.terms).sum(-1)
        return sums.astype(dtype)

    def describe(self) -> str:
        return (f"[a, b] = sums of {self.terms} of the {self.pool_size} entries of a vector from {self.interpolation} "
                f"(train) / {self.extrapolation} (test), " + self.describe_training())
