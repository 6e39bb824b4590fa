"""A static task whose input halves come from two ranges: Mistry et al.'s mixed-sign division."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .ranges import Range
from .static import StaticTask


@dataclass(frozen=True)
class HalvesTask(StaticTask):
    """A :class:`StaticTask` whose first ``input_size // 2`` inputs come from ``interpolation``
    (``extrapolation``) and the others from ``second_interpolation`` (``second_extrapolation``).

    Mistry et al.'s mixed-sign settings: a range given as three lists puts its first list in
    the first ``floor(d / 2)`` inputs and its second in the rest (bmistry4/nalm-division
    ``stable_nalu/dataset/_simple_function_abstact.py:195-210``), so with two inputs a = x1
    comes from the first range and b = x2 from the second; with ten, a and b, two adjacent
    inputs at an offset drawn per seed, come from one half or straddle the two.

    Args:
        input_size, subset_ratio, overlap_ratio, placement, interpolation, extrapolation,
            train_samples: as for :class:`StaticTask`; the two ranges of the first half.
        second_interpolation, second_extrapolation: the ranges of the second half.

    >>> from nalm.philox import Draws
    >>> task = HalvesTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
    ...                   interpolation=[-2, -1], second_interpolation=[1, 2])
    >>> x = task.sample(1000, Draws(seed=0, stream=1))
    >>> bool((x[:, 0] <= -1).all() and (x[:, 1] >= 1).all())
    True
    """

    second_interpolation: Range = field(default_factory=lambda: Range.parse([1, 2]))
    second_extrapolation: Range = field(default_factory=lambda: Range.parse([2, 6]))

    uniform_inputs: ClassVar[bool] = False  # the compiled kernels map every input to one range: draw by sample

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "second_interpolation", Range.parse(self.second_interpolation))
        object.__setattr__(self, "second_extrapolation", Range.parse(self.second_extrapolation))

    @property
    def input_ranges(self) -> tuple[Range, ...]:
        return self.interpolation, self.extrapolation, self.second_interpolation, self.second_extrapolation

    def from_uniform(self, u: np.ndarray, extrapolation: bool = False) -> np.ndarray:
        first, second = ((self.extrapolation, self.second_extrapolation) if extrapolation
                         else (self.interpolation, self.second_interpolation))
        half = self.input_size // 2
        return np.concatenate([first.from_uniform(u[..., :half]), second.from_uniform(u[..., half:])], axis=-1)

    def describe(self) -> str:
        first = super().describe()
        return (f"x[:{self.input_size // 2}] in {self.interpolation} (train) / {self.extrapolation} (test), the rest in "
                f"{self.second_interpolation} / {self.second_extrapolation}" + first[first.index(", d="):])
