"""The success criterion of the data-set experiments: below the solved model's bound.

Madsen & Johansen's criterion (sequential MNIST, ``paper/appendix/sequential-mnist.tex:8-10``;
stable-nalu b3296ac ``export/sequential_mnist_prod_long.r:47-74``,
``export/sequential_mnist_sum_long.r:47-70``): a run succeeds at a length if its test MSE
there, at its best validation step, is below the one-sided 99% Student-t upper bound of the
mean test MSE of the solved model (the arithmetic given, only the CNN trained) over the seeds
of it that solved the task.

The reference keeps those seeds by hand (``filter(seed %in% c(0,2,4,5,6,7,9))``, "seed 1, 3,
and 8 did not solve it", ``sequential_mnist_prod_long.r:70``; every seed for the sum, line 66).
nalm keeps them by a rule (:func:`solving_runs`): a seed whose CNN does not read the digits as
their values fails by orders of magnitude where the others do not (on the product a CNN that
reads every digit as its negative fits sequences of two exactly, and is off by 2d on one
digit). The t quantile is ``qt(0.99, n - 1)`` over the n seeds kept, the sum script's rule
(its 9 seeds, ``lfs_batch_jobs/sequential_mnist_sum_reference.sh:5``, give ``qt(0.99, 8)``;
the product script keeps that 8 for its 7 seeds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..results import RunRecord
from ..units.sequence import SOLVED
from . import metrics as M

THRESHOLD_CONFIDENCE = 0.98
"""A two-sided 98% interval's upper end is the one-sided 99% bound the reference uses (``qt(0.99, n-1)``)."""

NOT_SOLVED_FACTOR = 10.0
"""A seed of the solved model did not solve the task if its test MSE at some length is more than
this many times the median over the solved model's seeds there (or is not finite)."""


def lengths_of(run: RunRecord) -> list[int]:
    """What a run was tested at: sequence lengths, or (trask2018-program) operand digits."""
    task = run.config["task"]
    return list(task["test_lengths"] if "test_lengths" in task else task["test_digits"])


def _mse(run: RunRecord, length: int) -> float:
    value = run.metrics.get(f"mse_{length}")
    return math.inf if value is None or not math.isfinite(value) else float(value)


def solved_runs(runs: list[RunRecord], target: str) -> list[RunRecord]:
    """The stored runs of the solved model on ``target`` that did not diverge."""
    return [run for run in runs if run.model == SOLVED and run.target == target and not run.diverged]


def solving_runs(runs: list[RunRecord], target: str) -> list[RunRecord]:
    """The :func:`solved_runs` of ``target`` that solved it: at every test length within
    :data:`NOT_SOLVED_FACTOR` of the median MSE of the solved runs there."""
    return _solving(solved_runs(runs, target))


def _solving(solved: list[RunRecord]) -> list[RunRecord]:
    if not solved:
        return []
    limits = {}
    for length in lengths_of(solved[0]):
        finite = [e for e in (_mse(run, length) for run in solved) if math.isfinite(e)]
        limits[length] = NOT_SOLVED_FACTOR * float(np.median(finite)) if finite else -math.inf
    return [run for run in solved if all(_mse(run, length) <= limit for length, limit in limits.items())]


@dataclass(frozen=True)
class SolvedBound:
    """A target's success thresholds and the solved-model seeds they are from.

    Attributes:
        thresholds: per test length, the threshold MSE; empty when fewer than two seeds solved
            the task.
        kept: the solved model's stored runs that solved the task (:func:`solving_runs`).
        solved: the solved model's stored runs that did not diverge (:func:`solved_runs`).
    """

    thresholds: dict[int, float]
    kept: int
    solved: int


def solved_bound(runs: list[RunRecord], target: str) -> SolvedBound:
    """The success thresholds of ``target`` from the stored solved runs that solved it (at
    least two), with how many of the solved runs they are from."""
    solved = solved_runs(runs, target)
    kept = _solving(solved)
    bound = {} if len(kept) < 2 else {
        length: M.mean_interval([_mse(run, length) for run in kept], THRESHOLD_CONFIDENCE)[2]
        for length in lengths_of(kept[0])}
    return SolvedBound(bound, len(kept), len(solved))


def thresholds(runs: list[RunRecord], target: str) -> dict[int, float]:
    """Per length: the success threshold of ``target`` (:func:`solved_bound`)."""
    return solved_bound(runs, target).thresholds
