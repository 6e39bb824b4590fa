"""What the training loop, the data and the runner may ask of a task.

Every task (:class:`~nalm.tasks.StaticTask`, :class:`~nalm.tasks.RecurrentTask`,
:class:`~nalm.tasks.PoolTask`) is a frozen dataclass, so it is hashable (a population draws one
stream per distinct (task, seed)) and storable (:func:`nalm.tasks.task_to_dict`), and provides:
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..philox import Draws
from .ranges import Range


@runtime_checkable
class Task(Protocol):
    interpolation: Range  # where training and interpolation inputs are drawn
    extrapolation: Range  # where extrapolation inputs are drawn
    train_samples: int | None  # None: a fresh batch every step; n: one fixed training set of n

    @property
    def input_ranges(self) -> tuple[Range, ...]:
        """Every range an input is drawn from, as (training, test) pairs: ``(interpolation,
        extrapolation)``, and a mixed-sign task's second pair after it."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input's shape: ``(d,)``, or ``(T, d)`` for a sequence."""

    @property
    def in_features(self) -> int:
        """d, what a network's first layer takes."""

    @property
    def recurrent(self) -> bool:
        """Whether inputs are sequences, whose operands sum over time."""

    @property
    def uniform_inputs(self) -> bool:
        """Whether every input value is a uniform draw mapped to the range, row by row, so that
        the compiled kernels (and the GPU) can draw batches themselves
        (:class:`nalm.train.data.StreamArrays`); otherwise batches come from :meth:`sample`."""

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless the task computes target ``name`` (:data:`nalm.tasks.TARGETS`)."""

    def layout(self, seed: int) -> np.ndarray:
        """(d, 2): which inputs (summed over time) make a and b, for this seed."""

    def sample(self, n: int, draws: Draws, extrapolation: bool = False, dtype=np.float64) -> np.ndarray:
        """n inputs, shape ``(n, *input_shape)``, from ``draws``."""

    def totals(self, n: int, draws: Draws, extrapolation: bool = False) -> np.ndarray:
        """The same n inputs summed over time, shape (n, d): a and b are ``totals @ layout``."""

    def describe(self) -> str:
        """One line for people: ranges, sizes and how a and b are made (the protocol card's task row)."""
