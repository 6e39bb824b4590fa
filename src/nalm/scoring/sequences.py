"""The success criterion of the data-set experiments: below the solved model's bound.

Madsen & Johansen's criterion (sequential MNIST, ``paper/appendix/sequential-mnist.tex:8-10``;
stable-nalu ``export/sequential_mnist_prod_long.r:47-74``): a run succeeds at a length if its
test MSE there, at its best validation step, is below the one-sided 99% Student-t upper bound
of the mean test MSE of the solved model (the arithmetic given, only the CNN trained) over its
seeds.
"""
from __future__ import annotations

import math

from ..results import RunRecord
from ..units.sequence import SOLVED
from . import metrics as M

THRESHOLD_CONFIDENCE = 0.98
"""A two-sided 98% interval's upper end is the one-sided 99% bound the reference uses (``qt(0.99, n-1)``)."""


def lengths_of(run: RunRecord) -> list[int]:
    """What a run was tested at: sequence lengths, or (trask2018-program) operand digits."""
    task = run.config["task"]
    return list(task["test_lengths"] if "test_lengths" in task else task["test_digits"])


def thresholds(runs: list[RunRecord], target: str) -> dict[int, float]:
    """Per length: the success threshold from the stored solved runs of ``target`` (at least two)."""
    solved = [run for run in runs if run.model == SOLVED and run.target == target and not run.diverged]
    if len(solved) < 2:
        return {}
    out = {}
    for length in lengths_of(solved[0]):
        errors = [run.metrics.get(f"mse_{length}") for run in solved]
        if all(e is not None and math.isfinite(e) for e in errors):
            out[length] = M.mean_interval(errors, THRESHOLD_CONFIDENCE)[2]
    return out
