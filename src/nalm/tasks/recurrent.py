"""Recurrent arithmetic tasks: the static task's inputs arrive one vector per time step.

a and b sum their subsets over every time step; the target op(a, b) is given once, after
the last step. A model must therefore accumulate a and b in its state. Extrapolation tests
longer sequences (and, if its range differs, other values), so a and b grow far beyond
anything seen in training.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..philox import Draws, uniform
from .ranges import Range
from .static import StaticTask, stream
from ..streams import LAYOUT

RANGES = "ranges"
"""The recurrent-only placement: a and b are each one contiguous range, drawn independently."""


@dataclass(frozen=True)
class RecurrentTask(StaticTask):
    """A :class:`StaticTask` per time step, summed over ``length`` steps.

    Args:
        input_size, subset_ratio, overlap_ratio, interpolation, extrapolation,
            train_samples: as for :class:`StaticTask`, for the vector of one time step.
        placement: as for :class:`StaticTask`, or ``'ranges'``: per seed, a starts at
            ``s_a ~ U{0, …, d-1}`` and has ``n_a ~ U{1, …, d-s_a}`` elements, and b likewise and
            independently, so the two may be disjoint, overlap or nest (the ratios play no
            part). This is Madsen & Johansen's recurrent dataset, stable-nalu c434f99
            ``stable_nalu/dataset/_simple_function_abstact.py:52-60``; their
            ``numpy.random.RandomState`` is replaced by this seed's layout stream, so the
            distribution is theirs but not the draws.
        length: time steps of a training (and interpolation) sequence.
        extrapolation_length: time steps of an extrapolation sequence.

    The field defaults are :class:`StaticTask`'s per step with 10 training and 1000
    extrapolation steps; the named protocols are the presets
    :func:`~nalm.tasks.presets.madsen2020_recurrent` and
    :func:`~nalm.tasks.presets.nalm_recurrent_100`.

    >>> task = RecurrentTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
    ...                      length=3, extrapolation_length=30)
    >>> from nalm.streams import TRAIN
    >>> x = task.sample(2, Draws(seed=0, stream=TRAIN))
    >>> x.shape, task.sample(2, Draws(seed=0, stream=TRAIN), extrapolation=True).shape
    ((2, 3, 4), (2, 30, 4))
    >>> a, b = task.totals_of(x) @ task.layout(0)[:, 0], task.totals_of(x) @ task.layout(0)[:, 1]
    >>> bool(np.allclose(a, x[:, :, :2].sum(axis=(1, 2))))
    True
    """

    extrapolation: Range = field(default_factory=lambda: Range.parse([1, 2]))
    length: int = 10
    extrapolation_length: int = 1000

    recurrent: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.placement == RANGES:
            dataclasses.replace(self, placement="scattered")  # every check but the placement's
            object.__setattr__(self, "interpolation", Range.parse(self.interpolation))
            object.__setattr__(self, "extrapolation", Range.parse(self.extrapolation))
            return
        super().__post_init__()
        for name in ("length", "extrapolation_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.length, self.input_size)

    def subsets(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted indices of the elements summed into a and into b for this seed.

        >>> task = RecurrentTask(input_size=10, placement="ranges")
        >>> [(int(s[0]), len(s)) for s in task.subsets(seed=0)]  # (start, length) of a and of b
        [(8, 2), (5, 2)]
        """
        if self.placement != RANGES:
            return super().subsets(seed)
        rng = stream(seed, LAYOUT)
        ranges = []
        for _ in range(2):
            start = int(rng.integers(0, self.input_size))
            ranges.append(np.arange(start, start + int(rng.integers(1, self.input_size - start + 1))))
        return ranges[0], ranges[1]

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n sequences of shape (n, T, d), T is ``extrapolation_length`` for extrapolation:
        sequence i is row i of ``draws``."""
        steps = self.extrapolation_length if extrapolation else self.length
        return self.from_uniform(uniform(draws, (n, steps, self.input_size), dtype), extrapolation)

    @staticmethod
    def totals_of(x: np.ndarray) -> np.ndarray:
        """Each input summed over time, (n, T, d) → (n, d): a and b are sums of its subsets."""
        return x.sum(axis=-2)

    def totals(self, n: int, draws: Draws, extrapolation: bool = False, *,
               chunk_elements: int = 1 << 24) -> np.ndarray:
        """The time totals of n sequences, drawn in chunks so long sequences fit in memory; the
        chunks are rows of ``draws``, so the totals are those of one draw of all n."""
        per_sample = (self.extrapolation_length if extrapolation else self.length) * self.input_size
        chunk = max(1, chunk_elements // per_sample)
        return np.concatenate([self.totals_of(self.sample(min(chunk, n - start), draws.rows(start), extrapolation))
                               for start in range(0, n, chunk)])

    def describe(self) -> str:
        if self.placement == RANGES:
            return (f"{self.length} steps of x in {self.interpolation} (train) / {self.extrapolation_length} steps "
                    f"of x in {self.extrapolation} (test), d={self.input_size}, a and b each a contiguous range "
                    f"of random start and length per seed, summed over time")
        return (f"{self.length} steps of x in {self.interpolation} (train) / {self.extrapolation_length} steps "
                f"of x in {self.extrapolation} (test), d={self.input_size}, subsets of {self.subset_size} "
                f"overlapping by {self.overlap_size}, placement {self.placement}, summed over time")
