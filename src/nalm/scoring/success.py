"""A trained run's success, solved-at and normalized errors: the metrics of shared/PROTOCOLS.md
section 3 on top of what training measured (:class:`~nalm.train.MemberResult`)."""
from __future__ import annotations

import numpy as np

from ..train import MemberResult
from . import metrics as M


def score(result: MemberResult, threshold_mse: float, baseline: dict) -> dict:
    """The metrics of training (the population's, and the formula read back, :meth:`~nalm.experiments.spec.Workload.read_back`)
    plus success, solved-at and normalized errors; the best step's sparsity error only where it
    is the scored best step's.

    A member that diverged is scored on the evaluations it had before it diverged, as the
    reference scores the evaluations it has: it evaluates, then steps, with no check on the
    loss (stable-nalu ``experiments/simple_function_static.py:353-388``), so after a nan loss
    every evaluation is nan, and its R export skips nan evaluations when it picks the best step (``which.min``), finds the first
    solved step (``which``) and reads success at the best step (stable-nalu
    ``export/function_task_static.r:14-30,49-55``). So a member that met the threshold at its best
    interpolation step before it blew up succeeds, with its solved-at; ``diverged`` and
    ``diverged_at`` still say that it diverged. The training loop keeps evaluating a diverged member's
    frozen weights; those evaluations (after ``diverged_at``) are not scored, and its best-step
    metrics are those of the curve up to ``diverged_at``.

    Normalized errors (Trask et al.'s, of the final model) of a diverged member are infinite:
    the reference's final model is nan, and an infinite error ranks it worst in the median over
    seeds, as :func:`~nalm.scoring.metrics.median_interval` ranks nan. The frozen weights' finite
    error is not used: no reference run ever has those weights at the end of training.
    """
    metrics = dict(result.metrics)
    steps, interpolation, extrapolation = scored_curve(result)
    if result.diverged:
        best = M.best_step_index(interpolation)
        metrics["best_step"] = None if best is None else int(steps[best])
        metrics["best_interpolation_mse"] = None if best is None else float(interpolation[best])
        metrics["best_extrapolation_mse"] = None if best is None else float(extrapolation[best])
    metrics["threshold"] = threshold_mse
    metrics["success"] = M.is_success(interpolation, extrapolation, threshold_mse)
    metrics["solved_at"] = M.solved_at(steps, extrapolation, threshold_mse)
    # The training loop's best weights are from its own best step, which after a divergence may be an
    # evaluation of the frozen weights: their sparsity is then not that of the scored best step.
    if result.diverged and metrics["best_step"] != result.metrics.get("best_step"):
        metrics["sparsity_error"] = None
    metrics["diverged_at"] = result.diverged_at
    for which in ("interpolation", "extrapolation"):
        metrics[f"baseline_{which}_mae"] = baseline[which]
        error = np.inf if result.diverged else metrics[f"{which}_mae"]
        metrics[f"normalized_{which}"] = float(M.normalized_error(np.asarray(error), baseline[which]))
    return metrics


def scored_curve(result: MemberResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, interpolation and extrapolation MSE of the evaluations that count: all of them, or
    for a diverged member those up to ``diverged_at`` (the evaluation at ``diverged_at`` itself is
    of the weights before the step whose loss was not finite)."""
    steps = np.asarray(result.curve["step"])
    keep = slice(None) if result.diverged_at is None else steps <= result.diverged_at
    return (steps[keep], np.asarray(result.curve["interpolation"], dtype=float)[keep],
            np.asarray(result.curve["extrapolation"], dtype=float)[keep])
